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

/** A `Set-Cookie` value carrying `value` until `expiresAt` (ms since the epoch, as is `now`). */
export function serializeSessionCookie(options: ResolvedCookieOptions, value: string, expiresAt: number, now: number): string {
  return serialize(options.name, value, {
    maxAge: Math.max(0, Math.round((expiresAt - now) / 1000)),
    expires: new Date(expiresAt),
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    secure: options.secure,
    sameSite: options.sameSite,
    // Session tokens are base64url and dots: nothing to escape.
    encode: String,
  });
}

/** A `Set-Cookie` value that makes the browser delete the session cookie. */
export function serializeCookieDeletion(options: ResolvedCookieOptions): string {
  return serialize(options.name, "", {
    maxAge: 0,
    expires: new Date(0),
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    secure: options.secure,
    sameSite: options.sameSite,
  });
}
