import { refuseUnknownOptions, SessionConfigError } from "../errors.js";

/**
 * Settings of the session cookie. Only `name` and `secret` are required; every
 * default is the safe choice (see the README for the reasons).
 *
 * @example
 * const cookie: CookieOptions = {
 *   name: "__Host-sid",
 *   secret: [process.env.SESSION_SECRET!, process.env.OLD_SESSION_SECRET!], // the first encrypts, both decrypt
 *   maxAge: 1800,
 * };
 */
export type CookieOptions = {
  /** Cookie name, e.g. `"sid"` or `"__Host-sid"`. */
  name: string;
  /**
   * At least 32 characters. An array rotates keys: the first encrypts, every one
   * decrypts, and a cookie read under an older one is re-encrypted under the first.
   */
  secret: string | readonly string[];
  /** Hide the cookie from `document.cookie`. Default `true`. */
  httpOnly?: boolean;
  /** Default `"/"`. */
  path?: string;
  /** Default: none (the cookie goes back only to the host that set it). */
  domain?: string;
  /** Send the cookie over HTTPS only. Default `true`. */
  secure?: boolean;
  /**
   * Idle timeout in seconds: a session unused this long expires, on the server as well
   * as in the browser. Default `3600`.
   */
  maxAge?: number;
  /**
   * Absolute timeout in seconds: no session lives longer than this after it started,
   * however active. Default `43200` (12 hours, OWASP ASVS level 2), or `maxAge` when
   * that alone is set longer. It must not be shorter than `maxAge`.
   */
  absoluteTimeout?: number;
  /**
   * A session is renewed (a new cookie, a storage write) only once its remaining idle
   * lifetime is at most this many seconds. Default: half of `maxAge`.
   */
  renewThreshold?: number;
  /**
   * Seconds of grace when checking expiry, for servers whose clocks disagree.
   * Default `0`: an expired session reads as empty at once.
   */
  clockTolerance?: number;
  /** Default `"lax"`. `"none"` requires `secure: true`. */
  sameSite?: "lax" | "strict" | "none";
};

/**
 * The cookie settings a storage uses, every default filled in: `storage.cookie`.
 *
 * @example
 * const storage = createMemorySessionStorage({ cookie: { name: "sid", secret } });
 * storage.cookie.maxAge; // 3600: the default
 */
export type ResolvedCookieOptions = {
  /** The cookie's name. */
  name: string;
  /** Every secret, the one that encrypts first. */
  secrets: readonly string[];
  /** Hidden from `document.cookie`. */
  httpOnly: boolean;
  /** The cookie's `Path`. */
  path: string;
  /** The cookie's `Domain`, or `undefined` for the host that set it. */
  domain: string | undefined;
  /** Sent over HTTPS only. */
  secure: boolean;
  /** Idle timeout, in seconds. */
  maxAge: number;
  /** Longest life of a session, in seconds, however active. */
  absoluteTimeout: number;
  /** Seconds of idle lifetime left at which an unchanged session is renewed. */
  renewThreshold: number;
  /** Seconds of grace for clocks that disagree. */
  clockTolerance: number;
  /** The cookie's `SameSite`. */
  sameSite: "lax" | "strict" | "none";
};

export const minimumSecretLength = 32;
/** 400 days: the longest browsers keep a cookie (RFC 6265bis), and far inside what a Date can hold. */
const maxLifetimeSeconds = 400 * 24 * 3600;

const defaults = { httpOnly: true, path: "/", secure: true, maxAge: 3600, absoluteTimeout: 43_200, sameSite: "lax" } as const;
const knownOptions = new Set([
  "name",
  "secret",
  "httpOnly",
  "path",
  "domain",
  "secure",
  "maxAge",
  "absoluteTimeout",
  "renewThreshold",
  "clockTolerance",
  "sameSite",
]);

// RFC 6265 section 4.1.1: a cookie name is an RFC 7230 token.
const cookieNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Letters, digits, dots and hyphens, with an optional leading dot (browsers ignore it).
const domainPattern = /^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// Any printable ASCII but ";" (it would end the attribute).
const pathPattern = /^\/[\u0020-\u003A\u003C-\u007E]*$/;

/** Validates cookie settings at start-up and fills in the defaults. */
export function resolveCookieOptions(cookie: CookieOptions): ResolvedCookieOptions {
  if (cookie === null || typeof cookie !== "object") {
    throw new SessionConfigError("cookie", 'expected an object such as { name: "sid", secret: process.env.SESSION_SECRET }.');
  }
  refuseUnknownOptions("cookie.", cookie, knownOptions);
  const maxAge = validateSeconds("maxAge", cookie.maxAge ?? defaults.maxAge, "3600 for one hour", { max: maxLifetimeSeconds });
  // A maxAge set longer than the default absolute timeout (a week, say) is what the app asked
  // for: the default then follows it, rather than cutting every session at 12 hours.
  const defaultAbsoluteTimeout = Math.max(defaults.absoluteTimeout, maxAge);
  const options: ResolvedCookieOptions = {
    name: validateName(cookie.name),
    secrets: validateSecrets(cookie.secret),
    httpOnly: validateBoolean("httpOnly", cookie.httpOnly ?? defaults.httpOnly),
    path: validatePath(cookie.path ?? defaults.path),
    domain: cookie.domain === undefined ? undefined : validateDomain(cookie.domain),
    secure: validateBoolean("secure", cookie.secure ?? defaults.secure),
    maxAge,
    absoluteTimeout: validateSeconds("absoluteTimeout", cookie.absoluteTimeout ?? defaultAbsoluteTimeout, "43200 for 12 hours", {
      max: maxLifetimeSeconds,
    }),
    renewThreshold: validateSeconds("renewThreshold", cookie.renewThreshold ?? maxAge / 2, "1800", {
      allowZero: true,
      allowFraction: true,
    }),
    clockTolerance: validateSeconds("clockTolerance", cookie.clockTolerance ?? 0, "5", { allowZero: true }),
    sameSite: validateSameSite(cookie.sameSite ?? defaults.sameSite),
  };
  if (options.maxAge > options.absoluteTimeout) {
    throw new SessionConfigError(
      "cookie.maxAge",
      `an idle timeout of ${options.maxAge} s cannot work with an absolute timeout of ${options.absoluteTimeout} s: ` +
        "every session would end at the absolute timeout first. Lower maxAge, or raise absoluteTimeout to at least maxAge.",
    );
  }
  if (options.renewThreshold > options.maxAge) {
    throw new SessionConfigError(
      "cookie.renewThreshold",
      `must not exceed maxAge (${options.maxAge}); otherwise every response would renew the session. Default: half of maxAge.`,
    );
  }
  if (options.sameSite === "none" && !options.secure) {
    throw new SessionConfigError(
      "cookie.sameSite",
      'browsers reject `sameSite: "none"` without `secure: true`. Set `secure: true`, or use `sameSite: "lax"`.',
    );
  }
  // Browsers match the prefixes without regard to case: "__host-" is held to the same rules.
  const lowerCaseName = options.name.toLowerCase();
  if (lowerCaseName.startsWith("__secure-") && !options.secure) {
    throw new SessionConfigError("cookie.name", 'a "__Secure-" cookie needs `secure: true`; browsers drop it otherwise.');
  }
  if (lowerCaseName.startsWith("__host-") && (!options.secure || options.path !== "/" || options.domain !== undefined)) {
    throw new SessionConfigError(
      "cookie.name",
      'a "__Host-" cookie needs `secure: true`, `path: "/"` and no `domain`; browsers drop it otherwise.',
    );
  }
  return options;
}

function validateName(name: unknown): string {
  if (typeof name !== "string" || !cookieNamePattern.test(name)) {
    throw new SessionConfigError(
      "cookie.name",
      `${JSON.stringify(name)} is not a valid cookie name. Use letters, digits and !#$%&'*+-.^_\`|~ only (no spaces, "=", ";" or ","), e.g. "sid".`,
    );
  }
  return name;
}

function validateSecrets(secret: unknown): readonly string[] {
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigError(
      "cookie.secret",
      "expected a string of at least 32 characters, or a non-empty array of them (the first encrypts, all decrypt). " +
        "Generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
    );
  }
  secrets.forEach((candidate: unknown, index) => {
    const label = secrets.length > 1 ? `cookie.secret[${index}]` : "cookie.secret";
    if (typeof candidate !== "string" || candidate.length < minimumSecretLength) {
      const length = typeof candidate === "string" ? `${candidate.length} characters` : typeof candidate;
      throw new SessionConfigError(
        label,
        `a secret must be a string of at least ${minimumSecretLength} characters (got ${length}). ` +
          "Generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
      );
    }
  });
  return Object.freeze([...(secrets as string[])]);
}

function validateBoolean(option: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new SessionConfigError(`cookie.${option}`, `expected true or false, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function validatePath(path: unknown): string {
  if (typeof path !== "string" || !pathPattern.test(path)) {
    throw new SessionConfigError(
      "cookie.path",
      `${JSON.stringify(path)} is not a valid cookie path: start with "/" and use printable characters other than ";".`,
    );
  }
  return path;
}

function validateDomain(domain: unknown): string {
  if (typeof domain !== "string" || !domainPattern.test(domain)) {
    throw new SessionConfigError(
      "cookie.domain",
      `${JSON.stringify(domain)} is not a valid cookie domain: use a host name such as "example.com", or leave it unset.`,
    );
  }
  return domain;
}

function validateSeconds(
  option: string,
  seconds: unknown,
  example: string,
  { allowZero = false, allowFraction = false, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const isValid =
    typeof seconds === "number" &&
    Number.isFinite(seconds) &&
    (allowFraction || Number.isInteger(seconds)) &&
    (allowZero ? seconds >= 0 : seconds > 0) &&
    seconds <= max;
  if (!isValid) {
    const range = `${allowZero ? "0" : "1"} to ${max === maxLifetimeSeconds ? `${max} (400 days, the longest browsers keep a cookie)` : max}`;
    const kind = `${allowFraction ? "a number" : "a whole number"} of seconds from ${range}`;
    throw new SessionConfigError(`cookie.${option}`, `expected ${kind}, e.g. ${example}; got ${JSON.stringify(seconds)}.`);
  }
  return seconds;
}

function validateSameSite(sameSite: unknown): "lax" | "strict" | "none" {
  const normalized = typeof sameSite === "string" ? sameSite.toLowerCase() : sameSite;
  if (normalized !== "lax" && normalized !== "strict" && normalized !== "none") {
    throw new SessionConfigError("cookie.sameSite", `expected "lax", "strict" or "none", got ${JSON.stringify(sameSite)}.`);
  }
  return normalized;
}
