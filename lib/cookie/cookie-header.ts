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
  /** A `Set-Cookie` value carrying `value` until `expiresAt` (ms since the epoch, as is `now`). */
  const cookie = (value: string, expiresAt: number, now: number): string => {
    const maxAge = Math.max(0, Math.round((expiresAt - now) / 1000));
    return `${options.name}=${value}; Max-Age=${maxAge}; Expires=${new Date(expiresAt).toUTCString()}${constantAttributes}`;
  };
  return {
    cookie,
    /** A `Set-Cookie` value that makes the browser delete the session cookie: Max-Age=0, expired in 1970. */
    deletion: (): string => cookie("", 0, 0),
  };
}
