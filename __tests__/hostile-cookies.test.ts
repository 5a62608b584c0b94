// A forged, truncated, re-keyed, expired, non-JWE or absurdly long cookie reads as a
// fresh empty session: status 200, no exception, no cookie set, and the app keeps working.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import { deflateRawSync } from "node:zlib";
import { CompactEncrypt, base64url, compactDecrypt, type CompactJWEHeaderParameters } from "jose";
import request from "supertest";
import { createCookieCipher } from "../lib/encryption/cookie-cipher.js";
import { deriveCookieKey } from "../lib/encryption/cookie-keys.js";
import { intoSessionStore } from "../lib/index.js";
import { appWithSessions, cookiePair, cookieStorage, otherSecret, setCookieFor, testSecret } from "./fixtures.js";

type CryptoKey = webcrypto.CryptoKey;

// ---------------------------------------------------------------- forging helpers

const encoder = new TextEncoder();
const b64 = (input: string | Uint8Array | object): string =>
  base64url.encode(typeof input === "string" || input instanceof Uint8Array ? input : JSON.stringify(input));

/** A fixed byte string, so forged tokens are the same on every run. */
const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

/**
 * The plaintext our cookie storage seals: `createdAt.expiresAt.{content JSON}`, times in ms
 * in base 36 (flashed keys would follow a newline).
 */
function envelope(content: object, { createdAt = Date.now(), lifetimeMs = 3_600_000 } = {}): string {
  return rawEnvelope(JSON.stringify(content), { createdAt, lifetimeMs });
}

/** Our envelope around any text, by default with a full lifetime left (so no renewal cookie is due). */
function rawEnvelope(text: string, { createdAt = Date.now(), lifetimeMs = 3_600_000 } = {}): string {
  return `${createdAt.toString(36)}.${(createdAt + lifetimeMs).toString(36)}.${text}`;
}

/** A compact JWE built by hand with WebCrypto AES-256-GCM, optionally deflating the plaintext first. */
async function sealByHand(
  header: Record<string, unknown>,
  plaintext: string,
  key: CryptoKey,
  { deflate = false } = {},
): Promise<string> {
  const protectedHeader = b64(header);
  const iv = bytes(12, 7);
  const data = deflate ? new Uint8Array(deflateRawSync(Buffer.from(plaintext, "utf8"))) : encoder.encode(plaintext);
  const sealed = new Uint8Array(
    await webcrypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(protectedHeader), tagLength: 128 },
      key,
      data,
    ),
  );
  const ciphertext = sealed.slice(0, -16);
  const tag = sealed.slice(-16);
  return `${protectedHeader}..${b64(iv)}.${b64(ciphertext)}.${b64(tag)}`;
}

/** A compact JWE sealed by jose itself. */
async function sealWithJose(
  header: CompactJWEHeaderParameters,
  plaintext: string,
  key: CryptoKey | Uint8Array,
): Promise<string> {
  return new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader(header).encrypt(key);
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The token with one character changed in JWE part `index` (0 header, 1 encrypted key,
 * 2 iv, 3 ciphertext, 4 tag). A middle character is changed in its top bit, so the
 * decoded bytes always differ (a last character may carry ignored padding bits).
 * The encrypted-key part is empty for `dir`: there, one character is added instead.
 */
function flipCharacter(token: string, index: number): string {
  const parts = token.split(".");
  const part = parts[index]!;
  if (part === "") {
    parts[index] = "AAAA";
  } else {
    const middle = Math.floor(part.length / 2);
    const flipped = alphabet[alphabet.indexOf(part[middle]!) ^ 32]!;
    parts[index] = part.slice(0, middle) + flipped + part.slice(middle + 1);
  }
  const result = parts.join(".");
  if (result === token) throw new Error("flipCharacter changed nothing");
  return result;
}

// ---------------------------------------------------------------- the app under attack

type Context = {
  /** A real token, issued by the app's login. */
  token: string;
  /** `sid=<token>`. */
  pair: string;
  /** The key the app derives for cookie "sid" from `testSecret`. */
  key: CryptoKey;
};

const user = { id: 42, name: "Ada" };
let server: Server;
const ctx = {} as Context;

function defineRoutes(app: import("express").Express) {
  app.post("/login", (req, res) => {
    req.session.set("user", user);
    res.json({ ok: true });
  });
  app.get("/whoami", (req, res) => {
    res.json({ user: req.session.get("user") ?? null, hasUser: req.session.has("user") });
  });
}

beforeAll(async () => {
  const app = appWithSessions(defineRoutes);
  // A large header limit, so the 100 kB cookie reaches the app instead of Node's 431.
  server = createServer({ maxHeaderSize: 256 * 1024 }, app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const login = await request(server).post("/login");
  expect(login.status).toBe(200);
  ctx.pair = cookiePair(login);
  ctx.token = ctx.pair.slice("sid=".length);
  const derived = deriveCookieKey(testSecret, "sid");
  ctx.key = await derived.key;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

/** Sends `cookie` and expects a fresh empty session, no 500, and no cookie set in return. */
async function expectEmptySession(cookie: string) {
  const res = await request(server).get("/whoami").set("Cookie", cookie);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ user: null, hasUser: false });
  expect(setCookieFor(res)).toBeUndefined();
}

/** The app still reads the session a valid cookie carries. */
async function expectAppStillWorks() {
  const res = await request(server).get("/whoami").set("Cookie", ctx.pair);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ user, hasUser: true });
}

// ---------------------------------------------------------------- the table

type HostileCase = [label: string, cookieHeader: (ctx: Context) => string | Promise<string>];

const rest = (token: string) => token.slice(token.indexOf(".")); // ".<key>.<iv>.<ciphertext>.<tag>"

const hostileCookies: HostileCase[] = [
  // Not a token at all.
  ["empty value", () => "sid="],
  ["the name alone, no '='", () => "sid"],
  ["an empty Cookie header", () => ""],
  ["garbage", () => "sid=garbage"],
  ["five empty JWE parts", () => "sid=...."],
  ["five short base64url parts", () => "sid=eyJ.AAAA.BBBB.CCCC.DDDD"],
  // A real token, damaged.
  ["a real token truncated to 10 characters", ({ token }) => `sid=${token.slice(0, 10)}`],
  ["a real token truncated to half its length", ({ token }) => `sid=${token.slice(0, token.length >> 1)}`],
  ["a real token without its last character", ({ token }) => `sid=${token.slice(0, -1)}`],
  ["a real token without its tag part", ({ token }) => `sid=${token.slice(0, token.lastIndexOf("."))}`],
  ["a real token with a flipped character in the protected header", ({ token }) => `sid=${flipCharacter(token, 0)}`],
  ["a real token with a character in the (empty) encrypted-key part", ({ token }) => `sid=${flipCharacter(token, 1)}`],
  ["a real token with a flipped character in the iv", ({ token }) => `sid=${flipCharacter(token, 2)}`],
  ["a real token with a flipped character in the ciphertext", ({ token }) => `sid=${flipCharacter(token, 3)}`],
  ["a real token with a flipped character in the tag", ({ token }) => `sid=${flipCharacter(token, 4)}`],
  ["a real token with a sixth part", ({ token }) => `sid=${token}.AAAA`],
  // Re-keyed.
  [
    "a token sealed by jose under another secret's key",
    async () => {
      const other = deriveCookieKey(otherSecret, "sid");
      return `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, envelope({ user }), await other.key)}`;
    },
  ],
  [
    "a token sealed by jose under another secret's key, claiming a key id",
    async () => {
      const other = deriveCookieKey(otherSecret, "sid");
      return `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM", kid: "current" }, envelope({ user }), await other.key)}`;
    },
  ],
  [
    "a token of the app's other cookie (same secret) copied into sid",
    async () => {
      const prefs = await intoSessionStore(cookieStorage({ name: "prefs" }));
      prefs.set("user", user);
      const header = await prefs.commit();
      return `sid=${header.split(";")[0]!.slice("prefs=".length)}`;
    },
  ],
  [
    "a token sealed by jose under the other cookie's key",
    async () => {
      const prefsKey = await deriveCookieKey(testSecret, "prefs").key;
      return `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, envelope({ user }), prefsKey)}`;
    },
  ],
  // Other algorithms.
  ['alg "none" on a real token\'s parts', ({ token }) => `sid=${b64({ alg: "none", enc: "A256GCM" })}${rest(token)}`],
  ['alg "none" alone', () => `sid=${b64({ alg: "none" })}....`],
  [
    'alg "A256KW" (sealed by jose)',
    async () => `sid=${await sealWithJose({ alg: "A256KW", enc: "A256GCM" }, envelope({ user }), bytes(32, 1))}`,
  ],
  [
    'alg "PBES2-HS256+A128KW" with p2c 10 000 000',
    () => `sid=${pbes2Token()}`,
  ],
  [
    'enc "A128GCM" (dir, sealed by jose)',
    async () => `sid=${await sealWithJose({ alg: "dir", enc: "A128GCM" }, envelope({ user }), bytes(16, 2))}`,
  ],
  [
    'zip "DEF": real key, deflated plaintext',
    async ({ key }) =>
      `sid=${await sealByHand({ alg: "dir", enc: "A256GCM", zip: "DEF" }, envelope({ user }), key, { deflate: true })}`,
  ],
  [
    "an unknown critical header parameter (real key)",
    async ({ key }) =>
      `sid=${await sealByHand({ alg: "dir", enc: "A256GCM", crit: ["x-custom"], "x-custom": 1 }, envelope({ user }), key)}`,
  ],
  // Absurd lengths.
  ["a 5000-byte value (a real token, padded)", ({ token }) => `sid=${token}${"A".repeat(5000 - token.length)}`],
  ["a 100 kB value", () => `sid=${"A".repeat(100 * 1024)}`],
  // Confusing headers.
  ["three garbage sids", () => "sid=garbage; sid=more; sid=again"],
  ["names __proto__, constructor, hasOwnProperty, toString and no sid", () => "__proto__=1; constructor=2; hasOwnProperty=3; toString=4"],
  ["names __proto__, constructor, hasOwnProperty, toString and a garbage sid", () => "__proto__=x; constructor=x; sid=x; hasOwnProperty=x; toString=x"],
  ["a percent-encoded JSON value", () => `sid=${encodeURIComponent(JSON.stringify({ d: { user } }))}`],
  ["a malformed percent sequence", () => "sid=%E0%A4%A; other=%00%ZZ"],
  ["non-ASCII (UTF-8 bytes on the wire)", () => Buffer.from("sid=ünïcødé-日本語-🍪", "utf8").toString("latin1")],
  ["a real token followed by non-ASCII", ({ token }) => Buffer.from(`sid=${token}é`, "utf8").toString("latin1")],
  // Plaintext sessions.
  ["a JSON session in plaintext", () => `sid=${JSON.stringify({ d: { user } })}`],
  ["our envelope in plaintext", () => `sid=${envelope({ user })}`],
  [
    "a real token re-serialized as flattened JSON JWE",
    ({ token }) => {
      const [protectedHeader, , iv, ciphertext, tag] = token.split(".");
      return `sid=${JSON.stringify({ protected: protectedHeader, iv, ciphertext, tag })}`;
    },
  ],
  // Sealed with the real key but not our envelope: only a key holder could make these; still no crash.
  ["real key: plaintext that is not an envelope", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, JSON.stringify({ d: { user } }), key)}`],
  [
    "real key: an expired envelope",
    async ({ key }) =>
      `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, envelope({ user }, { createdAt: Date.now() - 7_200_000 }), key)}`,
  ],
  ["real key: an envelope whose times are upper-case letters", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, `ZZZZZZZZ.ZZZZZZZZ.{"user":1}`, key)}`],
  ["real key: an envelope whose time has 11 digits", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, `zzzzzzzzzzz.zzzzzzzzzzz.{"user":1}`, key)}`],
  ["real key: an envelope whose times are negative", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, `-1.-1.{"user":1}`, key)}`],
  ["real key: an envelope with empty times", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, `..{"user":1}`, key)}`],
  ["real key: an envelope with broken JSON", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, rawEnvelope('{"user":'), key)}`],
  ["real key: an envelope holding JSON null", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, rawEnvelope("null"), key)}`],
  ["real key: an envelope whose content is a string", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, rawEnvelope('"user"'), key)}`],
  ["real key: an envelope whose content is an array", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, rawEnvelope("[1,2]"), key)}`],
  ["real key: an envelope whose flashed keys are not an array", async ({ key }) => `sid=${await sealWithJose({ alg: "dir", enc: "A256GCM" }, rawEnvelope('{"user":1}\n{"user":1}'), key)}`],
];

/** A PBES2 JWE asking for 10 million PBKDF2 iterations: seconds of CPU if anyone ran them. */
function pbes2Token(): string {
  const header = { alg: "PBES2-HS256+A128KW", enc: "A256GCM", p2s: b64(bytes(16, 3)), p2c: 10_000_000 };
  return [b64(header), b64(bytes(40, 4)), b64(bytes(12, 5)), b64(bytes(64, 6)), b64(bytes(16, 7))].join(".");
}

describe("a hostile Cookie header reads as a fresh empty session", () => {
  test("the table is big enough", () => {
    expect(hostileCookies.length).toBeGreaterThanOrEqual(25);
  });

  test.each(hostileCookies)("%s", async (_label, cookieHeader) => {
    await expectEmptySession(await cookieHeader(ctx));
    await expectAppStillWorks();
  });
});

describe("tokens carry no key id: the key alone decides", () => {
  test.each<[string, Record<string, unknown>]>([
    ["an unknown kid", { kid: "unknown0" }],
    ['kid "__proto__"', { kid: "__proto__" }],
    ["a numeric kid", { kid: 1234 }],
  ])("a token sealed with the real key and %s is read: only a key holder can make it", async (_label, extra) => {
    const token = await sealByHand({ alg: "dir", enc: "A256GCM", ...extra }, envelope({ user }), ctx.key);
    const res = await request(server).get("/whoami").set("Cookie", `sid=${token}`);
    expect(res.body).toEqual({ user, hasUser: true });
  });
});

describe("the refusals are for the stated reason, and cheap", () => {
  test("the hand-made sealing works: the same token without zip is read, so compression alone is refused", async () => {
    const plain = await sealByHand({ alg: "dir", enc: "A256GCM" }, envelope({ user }), ctx.key);
    const res = await request(server).get("/whoami").set("Cookie", `sid=${plain}`);
    expect(res.body).toEqual({ user, hasUser: true });
    const zipped = await sealByHand({ alg: "dir", enc: "A256GCM", zip: "DEF" }, envelope({ user }), ctx.key, {
      deflate: true,
    });
    await expectEmptySession(`sid=${zipped}`);
    // The zipped token is a well-formed compressed JWE: jose opens it when decompression is allowed.
    const inflated = await compactDecrypt(zipped, ctx.key, { maxDecompressedLength: 10_000 });
    expect(new TextDecoder().decode(inflated.plaintext)).toMatch(/^[0-9a-z]+\.[0-9a-z]+\.\{"user":/);
  });

  test("jose sealing with the real key is read (the control for the re-keyed cases)", async () => {
    const token = await sealWithJose({ alg: "dir", enc: "A256GCM" }, envelope({ user }), ctx.key);
    const res = await request(server).get("/whoami").set("Cookie", `sid=${token}`);
    expect(res.body).toEqual({ user, hasUser: true });
  });

  test("PBES2 with p2c 10 000 000 is refused in well under 50 ms", async () => {
    const cipher = createCookieCipher([testSecret], "sid");
    // Warm up: the key is imported at start-up, not per request.
    expect((await cipher.open(ctx.token))?.plaintext).toContain('"user"');
    const token = pbes2Token();
    const started = performance.now();
    const opened = await cipher.open(token);
    const elapsed = performance.now() - started;
    expect(opened).toBeUndefined();
    expect(elapsed).toBeLessThan(50);
  });

  test.each([
    ["zip DEF", async () => sealByHand({ alg: "dir", enc: "A256GCM", zip: "DEF" }, envelope({ user }), ctx.key, { deflate: true })],
    ['alg "none"', async () => `${b64({ alg: "none", enc: "A256GCM" })}${rest(ctx.token)}`],
    ["a 100 kB value", async () => "A".repeat(100 * 1024)],
  ])("%s is refused in well under 50 ms", async (_label, make) => {
    const cipher = createCookieCipher([testSecret], "sid");
    expect(await cipher.open(ctx.token)).toBeDefined();
    const token = await make();
    const started = performance.now();
    const opened = await cipher.open(token);
    expect(performance.now() - started).toBeLessThan(50);
    expect(opened).toBeUndefined();
  });
});

describe("confusing Cookie headers around a valid cookie", () => {
  test("duplicate sid: garbage (a planted or stale cookie) first, then the valid token: the session is read", async () => {
    const res = await request(server).get("/whoami").set("Cookie", `sid=garbage; ${ctx.pair}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user, hasUser: true });
  });

  test("duplicate sid: the valid token first, then garbage: the session is read", async () => {
    const res = await request(server).get("/whoami").set("Cookie", `${ctx.pair}; sid=garbage`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user, hasUser: true });
  });

  test("__proto__, constructor, hasOwnProperty and toString beside a valid sid: the session is read", async () => {
    const res = await request(server)
      .get("/whoami")
      .set("Cookie", `__proto__=1; constructor=2; ${ctx.pair}; hasOwnProperty=3; toString=4`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user, hasUser: true });
  });

  test("two Cookie header lines (Node joins them): the session is read", async () => {
    const res = await request(server).get("/whoami").set("Cookie", ["theme=dark", ctx.pair]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user, hasUser: true });
  });

  test.each(["__proto__", "constructor", "hasOwnProperty", "toString"])(
    "a session cookie named %s works, and a header that only mentions the name reads as empty",
    async (name) => {
      const app = appWithSessions(defineRoutes, { storage: cookieStorage({ name }) });
      const empty = await request(app).get("/whoami").set("Cookie", `x${name}=1; ${name}x=2; other=${name}`);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ user: null, hasUser: false });
      const garbage = await request(app).get("/whoami").set("Cookie", `${name}=garbage`);
      expect(garbage.status).toBe(200);
      expect(garbage.body).toEqual({ user: null, hasUser: false });
      const login = await request(app).post("/login");
      const read = await request(app).get("/whoami").set("Cookie", `sid=x; ${cookiePair(login, name)}`);
      expect(read.body).toEqual({ user, hasUser: true });
    },
  );
});
