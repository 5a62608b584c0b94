import { serialize } from "cookie";
import type { ResolvedCookieOptions } from "./cookie-options.js";

/** Browsers keep cookies up to 4096 bytes (RFC 6265 section 6.1); a larger one is dropped silently. */
export const maxCookieBytes = 4096;

/** Duplicate names tried at most: enough for a stale or planted cookie beside the real one. */
const maxDuplicates = 3;

/**
 * The values of cookie `name` in a `Cookie` request header, in the order sent, at most
 * three. Browsers send duplicates when cookies of the same name differ in path or domain
 * (a sibling subdomain can plant one), so the caller tries each rather than trusting the first.
 * Names are compared as plain strings: "__proto__" or "hasOwnProperty" are ordinary names.
 */
export function readCookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  if (!header || !header.includes(name)) return values;
  for (const pair of header.split(";")) {
    const separator = pair.indexOf("=");
    if (separator === -1 || pair.slice(0, separator).trim() !== name) continue;
    values.push(pair.slice(separator + 1).trim());
    if (values.length === maxDuplicates) break;
  }
  return values;
}

/**
 * Writes the session's `Set-Cookie` values. The attributes that never change are
 * serialised once, with the `cookie` package's checks, when the storage is created;
 * a commit then only joins strings (session tokens are base64url and dots: nothing to escape).
 */
export function createSessionCookieSerializer(options: ResolvedCookieOptions) {
  const constantAttributes = serialize(options.name, "", {
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    secure: options.secure,
    sameSite: options.sameSite,
  }).slice(`${options.name}=`.length);
  return {
    /**
     * A `Set-Cookie` value carrying `value` until `expiresAt` (ms since the epoch, as is
     * `now`). `Max-Age` only: every browser in use honours it (RFC 6265 gives it precedence),
     * and an `Expires` date would add 39 bytes to every cookie for clients that no longer exist.
     */
    cookie(value: string, expiresAt: number, now: number): string {
      const maxAge = Math.max(0, Math.round((expiresAt - now) / 1000));
      return `${options.name}=${value}; Max-Age=${maxAge}${constantAttributes}`;
    },
    /**
     * A `Set-Cookie` value that deletes the session cookie: Max-Age=0, and an `Expires` in
     * 1970 too, for cookie jars that know only Expires (this one is sent once per logout).
     */
    deletion(): string {
      return `${options.name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${constantAttributes}`;
    },
  };
}
