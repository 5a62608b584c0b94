import { parse, serialize } from "cookie";
import type { ResolvedCookieOptions } from "./cookie-options.js";

/** Browsers keep cookies up to 4096 bytes (RFC 6265 section 6.1); a larger one is dropped silently. */
export const maxCookieBytes = 4096;

/**
 * The value of cookie `name` in a `Cookie` request header, or `undefined`.
 * With duplicate names the first wins (browsers send the most specific path first).
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || !header.includes(name)) return undefined;
  // `parse` returns an object without a prototype: "__proto__" or "hasOwnProperty" are ordinary names.
  return parse(header)[name];
}

/** A `Set-Cookie` value carrying `value` until `expiresAt` (ms since the epoch). */
export function serializeSessionCookie(options: ResolvedCookieOptions, value: string, expiresAt: number): string {
  return serialize(options.name, value, {
    maxAge: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)),
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
