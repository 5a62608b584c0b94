import { serialize } from "cookie";
import type { ResolvedCookieOptions } from "./cookie-options.js";

/** Browsers keep cookies up to 4096 bytes (RFC 6265 section 6.1); a larger one is dropped silently. */
export const maxCookieBytes = 4096;

/** Duplicate names tried at most: enough for a stale or planted cookie beside the real one. */
const maxDuplicates = 3;

/**
 * The values of cookie `name` in a `Cookie` request header that could be a session token
 * (`isCandidate`), in the order sent, at most three. Browsers send duplicates when cookies
 * of the same name differ in path or domain (a sibling subdomain can plant one), so the
 * caller tries each rather than trusting the first; values that cannot be a token do not
 * count, so junk planted in front cannot hide the real one.
 * Names are compared as plain strings: "__proto__" or "hasOwnProperty" are ordinary names.
 * The header is scanned for the name, not split into every pair: browsers send all of a
 * site's cookies (analytics, preferences) on every request, and only ours matters here.
 */
export function readCookieValues(header: string | undefined, name: string, isCandidate: (value: string) => boolean): string[] {
  const values: string[] = [];
  let from = 0;
  while (header && values.length < maxDuplicates) {
    const at = header.indexOf(name, from);
    if (at === -1) break;
    from = at + name.length;
    // The name must be a whole pair's name: only whitespace between it and the ";" before it and the "=" after it.
    const equals = skipWhitespace(header, from, 1);
    if (header.charCodeAt(equals) !== equalsSign || !startsPair(header, at)) continue;
    const end = header.indexOf(";", equals);
    const value = header.slice(equals + 1, end === -1 ? header.length : end).trim();
    if (isCandidate(value)) values.push(value);
    if (end === -1) break;
    from = end;
  }
  return values;
}

/**
 * The `Cookie` header a token client's header stands for: `Authorization: Bearer <token>`
 * (or a bare token in a header of the app's choosing) becomes `name=<token>`. A header
 * already in cookie syntax (`name=<token>`) is returned as it is.
 */
export function cookieHeaderForToken(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const token = header.replace(bearerScheme, "").trim();
  return token.includes("=") ? token : `${name}=${token}`;
}

const bearerScheme = /^\s*bearer\s+/i;

/** The bare value of a `Set-Cookie` header (`name=value; Max-Age=...`): what a token client keeps. */
export function tokenOfSetCookie(setCookie: string): string {
  const equals = setCookie.indexOf("=");
  const end = setCookie.indexOf(";");
  return setCookie.slice(equals + 1, end === -1 ? setCookie.length : end);
}

const equalsSign = 0x3d;
const semicolon = 0x3b;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The first index from `index` on (step 1) or back (step -1) that is not a space or tab. */
function skipWhitespace(text: string, index: number, step: 1 | -1): number {
  while (isWhitespace(text.charCodeAt(index))) index += step;
  return index;
}

function startsPair(header: string, nameStart: number): boolean {
  const before = skipWhitespace(header, nameStart - 1, -1);
  return before === -1 || header.charCodeAt(before) === semicolon;
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
