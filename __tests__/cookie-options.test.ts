// Start-up validation: a misconfigured storage or middleware throws SessionConfigError when it is
// created, naming the option and saying what to change, long before the first request.
import { describe, expect, test } from "@jest/globals";
import {
  SessionConfigError,
  SessionError,
  createCookieSessionStorage,
  intoSessionStore,
  sessions,
  withEncryptedCookies,
  type CookieOptions,
  type SessionsOptions,
} from "../lib/index.js";
import { cookieStorage, testSecret } from "./fixtures.js";

/** Runs `create` and returns what it threw (failing the test when it did not throw). */
function thrownBy(create: () => unknown): unknown {
  try {
    create();
  } catch (error) {
    return error;
  }
  throw new Error("expected a SessionConfigError, but nothing was thrown");
}

/**
 * What creating a storage with `cookie` throws; when creation succeeds, what its first commit
 * throws instead (so a failing test shows the error a user would meet at request time).
 */
async function thrownByOrCommit(cookie: CookieOptions): Promise<unknown> {
  let storage;
  try {
    storage = createCookieSessionStorage({ cookie });
  } catch (error) {
    return error;
  }
  const session = await intoSessionStore(storage);
  session.set("user", { id: 1 });
  return session.commit().then(
    (header) => new Error(`created without error, and committed: ${header}`),
    (error: unknown) => error,
  );
}

function expectConfigError(error: unknown, option: string, fix: RegExp) {
  expect(error).toBeInstanceOf(SessionConfigError);
  expect(error).toBeInstanceOf(SessionError);
  const configError = error as SessionConfigError;
  expect(configError.name).toBe("SessionConfigError");
  expect(configError.code).toBe("ERR_SESSION_CONFIG");
  expect(configError.option).toBe(option);
  expect(configError.message).toContain(`\`${option}\``);
  expect(configError.message).toMatch(fix);
}

const valid = { name: "sid", secret: testSecret };
const generateHint = /at least 32 characters[\s\S]*Generate one with/;

type ConfigCase = [label: string, cookie: Record<string, unknown>, option: string, fix: RegExp];

const invalidCookies: ConfigCase[] = [
  // Secrets.
  ["a secret of 31 characters", { ...valid, secret: "x".repeat(31) }, "cookie.secret", generateHint],
  ["an empty secret", { ...valid, secret: "" }, "cookie.secret", generateHint],
  ["a missing secret", { name: "sid" }, "cookie.secret", generateHint],
  ["an empty secret array", { ...valid, secret: [] }, "cookie.secret", /non-empty array[\s\S]*Generate one with/],
  ["a non-string entry in the secret array", { ...valid, secret: [testSecret, 42] }, "cookie.secret[1]", /got number[\s\S]*Generate one with/],
  ["a short entry in the secret array", { ...valid, secret: [testSecret, "short"] }, "cookie.secret[1]", /got 5 characters/],
  // Names.
  ["a name with a space", { ...valid, name: "my sid" }, "cookie.name", /Use letters, digits .* e\.g\. "sid"/],
  ["a name with a semicolon", { ...valid, name: "sid;" }, "cookie.name", /no spaces, "=", ";" or ","/],
  ["a name with an equals sign", { ...valid, name: "s=id" }, "cookie.name", /no spaces, "=", ";" or ","/],
  ["a name with a comma", { ...valid, name: "s,id" }, "cookie.name", /no spaces, "=", ";" or ","/],
  ["a non-ASCII name", { ...valid, name: "séssion" }, "cookie.name", /Use letters, digits/],
  ["an empty name", { ...valid, name: "" }, "cookie.name", /Use letters, digits/],
  ["a missing name", { secret: testSecret }, "cookie.name", /Use letters, digits/],
  // Domain and path.
  ["a domain with a space", { ...valid, domain: "exa mple.com" }, "cookie.domain", /use a host name such as "example\.com", or leave it unset/],
  ["a domain with a slash", { ...valid, domain: "example.com/app" }, "cookie.domain", /use a host name such as "example\.com", or leave it unset/],
  ["a path with a semicolon", { ...valid, path: "/app;x" }, "cookie.path", /start with "\/" and use printable characters other than ";"/],
  ["a path not starting with a slash", { ...valid, path: "app" }, "cookie.path", /start with "\/"/],
  // sameSite.
  ['sameSite "none" with secure: false', { ...valid, sameSite: "none", secure: false }, "cookie.sameSite", /Set `secure: true`, or use `sameSite: "lax"`/],
  ['sameSite "bogus"', { ...valid, sameSite: "bogus" }, "cookie.sameSite", /expected "lax", "strict" or "none"/],
  // maxAge.
  ["maxAge 0", { ...valid, maxAge: 0 }, "cookie.maxAge", /whole number of seconds from 1 to 34560000.*e\.g\. 3600/],
  ["maxAge -1", { ...valid, maxAge: -1 }, "cookie.maxAge", /whole number of seconds from 1 to 34560000/],
  ["maxAge 1.5", { ...valid, maxAge: 1.5 }, "cookie.maxAge", /whole number of seconds/],
  ['maxAge "3600" (a string)', { ...valid, maxAge: "3600" }, "cookie.maxAge", /whole number of seconds/],
  ["maxAge Infinity", { ...valid, maxAge: Infinity }, "cookie.maxAge", /whole number of seconds/],
  ["maxAge NaN", { ...valid, maxAge: NaN }, "cookie.maxAge", /whole number of seconds/],
  // Booleans.
  ['httpOnly "yes"', { ...valid, httpOnly: "yes" }, "cookie.httpOnly", /expected true or false/],
  ["secure 1", { ...valid, secure: 1 }, "cookie.secure", /expected true or false/],
  // Unknown options.
  ["unknown option maxage", { ...valid, maxage: 60 }, "cookie.maxage", /did you mean `maxAge`\?/],
  ["unknown option httponly", { ...valid, httponly: true }, "cookie.httponly", /did you mean `httpOnly`\?/],
  ["unknown option expires", { ...valid, expires: new Date() }, "cookie.expires", /Known options: .*maxAge/],
  // Cookie prefixes.
  ['a "__Host-" name with a domain', { ...valid, name: "__Host-sid", domain: "example.com" }, "cookie.name", /`secure: true`, `path: "\/"` and no `domain`/],
  ['a "__Host-" name with a path', { ...valid, name: "__Host-sid", path: "/app" }, "cookie.name", /`path: "\/"` and no `domain`/],
  ['a "__Host-" name with secure: false', { ...valid, name: "__Host-sid", secure: false }, "cookie.name", /needs `secure: true`/],
  ['a "__Secure-" name with secure: false', { ...valid, name: "__Secure-sid", secure: false }, "cookie.name", /needs `secure: true`/],
];

describe("createCookieSessionStorage validates its cookie options at start-up", () => {
  test.each(invalidCookies)("%s", (_label, cookie, option, fix) => {
    expectConfigError(thrownBy(() => createCookieSessionStorage({ cookie: cookie as unknown as CookieOptions })), option, fix);
  });

  test("a cookie that is not an object", () => {
    expectConfigError(
      thrownBy(() => createCookieSessionStorage({ cookie: null as unknown as CookieOptions })),
      "cookie",
      /expected an object such as \{ name: "sid", secret/,
    );
  });

  test("a lifetime too long to write as an Expires date is refused at start-up, not at every commit", async () => {
    // 1e13 s is past the last date a JavaScript Date can hold: serializing Expires can only fail.
    const cookie = { ...valid, maxAge: 1e13, absoluteTimeout: 1e13 } as CookieOptions;
    const error = await thrownByOrCommit(cookie);
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as SessionConfigError).option).toMatch(/^cookie\.(maxAge|absoluteTimeout)$/);
  });

  test("withEncryptedCookies applies the same checks", () => {
    const storage = {
      async fromHeader() {
        return [{ content: new Map(), flashedKeys: new Set() }] as [{ content: Map<string, unknown>; flashedKeys: Set<string> }];
      },
      async toHeader() {
        return "";
      },
    };
    expectConfigError(
      thrownBy(() => withEncryptedCookies({ cookie: { name: "sid", secret: "too short" }, storage })),
      "cookie.secret",
      generateHint,
    );
  });

  test.each<[string, Partial<CookieOptions>]>([
    ["the minimum", {}],
    ["a secret of exactly 32 characters", { secret: "x".repeat(32) }],
    ["a rotation array", { secret: [testSecret, "y".repeat(32)] }],
    ['a "__Host-" cookie done right', { name: "__Host-sid", secure: true, path: "/" }],
    ['a "__Secure-" cookie with a domain', { name: "__Secure-sid", secure: true, domain: ".example.com" }],
    ['sameSite "none" with secure', { sameSite: "none", secure: true }],
    ['sameSite "Strict" in another case', { sameSite: "Strict" as "strict" }],
    ["every option set", { httpOnly: false, path: "/app/v1", domain: "sub.example.com", secure: true, maxAge: 86_400, sameSite: "strict" }],
  ])("valid: %s", (_label, overrides) => {
    const storage = createCookieSessionStorage({ cookie: { ...valid, ...overrides } });
    expect(storage.cookie.name).toBe(overrides.name ?? "sid");
  });

  test("the defaults are filled in: httpOnly, path /, sameSite lax, secure, maxAge 3600, no domain", () => {
    const { cookie } = createCookieSessionStorage({ cookie: valid });
    expect(cookie).toMatchObject({ name: "sid", httpOnly: true, path: "/", sameSite: "lax", secure: true, maxAge: 3600 });
    expect(cookie.domain).toBeUndefined();
    expect(cookie.secrets).toEqual([testSecret]);
  });
});

describe("sessions() validates its options at start-up", () => {
  test.each<[label: string, options: unknown, option: string, fix: RegExp]>([
    ["no options at all", undefined, "options", /expected \{ storage \}/],
    ["a missing storage", {}, "storage", /expected a session storage with fromHeader\(\) and toHeader\(\)/],
    ["a storage without toHeader", { storage: { fromHeader: async () => [] } }, "storage", /fromHeader\(\) and toHeader\(\)/],
    ["a misspelled option", { storage: cookieStorage(), store: cookieStorage() }, "store", /unknown option; did you mean `storage`\?/],
    ["an unknown option", { storage: cookieStorage(), secure: true }, "secure", /unknown option\. Known options: storage, headerName, responseHeaderName, storageTimeout/],
    ["a storageTimeout of 0", { storage: cookieStorage(), storageTimeout: 0 }, "storageTimeout", /expected a number of milliseconds, 1 or more/],
    ["a headerName with a space", { storage: cookieStorage(), headerName: "x session" }, "headerName", /expected an HTTP header name such as "cookie"/],
    ["a headerName with a colon", { storage: cookieStorage(), headerName: "cookie:" }, "headerName", /expected an HTTP header name/],
    ["an empty headerName", { storage: cookieStorage(), headerName: "" }, "headerName", /expected an HTTP header name/],
    ["a non-string headerName", { storage: cookieStorage(), headerName: 42 }, "headerName", /expected an HTTP header name/],
  ])("%s", (_label, options, option, fix) => {
    expectConfigError(thrownBy(() => sessions(options as SessionsOptions)), option, fix);
  });

  test("valid options create a middleware", () => {
    expect(typeof sessions({ storage: cookieStorage() })).toBe("function");
    expect(typeof sessions({ storage: cookieStorage(), headerName: "Authorization" })).toBe("function");
  });
});
