// The session cookie on the wire: a compact JWE (dir + A256GCM) that jose can open with
// the derived key, key rotation, name binding, server-side expiry, the Set-Cookie attributes,
// the 4096-byte limit, and what the cookie storage accepts as a value.
import { describe, expect, test } from "@jest/globals";
import { isDeepStrictEqual } from "node:util";
import type { Express } from "express";
import { CompactEncrypt, base64url, compactDecrypt } from "jose";
import request, { type Response as TestResponse } from "supertest";
import { deriveCookieKey } from "../lib/encryption/cookie-keys.js";
import {
  CookieTooLargeError,
  SessionError,
  SessionValueNotSerializableError,
  createCookieSessionStorage,
  intoSessionStore,
  type CookieOptions,
  type Serializable,
} from "../lib/index.js";
import { appWithSessions, cookiePair, cookieStorage, otherSecret, setCookieFor, sleep, testSecret } from "./fixtures.js";

const decoder = new TextDecoder();
const user = { id: 42, name: "Ada Lovelace", email: "ada@example.com", roles: ["admin"] };

function routes(app: Express) {
  app.post("/login", (req, res) => {
    req.session.set("user", user);
    req.session.flash("message", "Welcome back, Ada Lovelace");
    res.json({ ok: true });
  });
  app.get("/whoami", (req, res) => {
    res.json({ user: req.session.get("user") ?? null, message: req.session.get("message") ?? null });
  });
  // Reads the user only: leaves a pending flash alone, so it changes nothing.
  app.get("/user", (req, res) => {
    res.json({ user: req.session.get("user") ?? null });
  });
}

const tokenOf = (res: TestResponse, name = "sid") => cookiePair(res, name).slice(name.length + 1);

function protectedHeaderOf(token: string): Record<string, unknown> {
  return JSON.parse(decoder.decode(base64url.decode(token.split(".")[0]!)));
}

/**
 * Opens one of our tokens with jose alone, and splits our envelope `createdAt.expiresAt.text`
 * (times in ms, base 36), the text being the content's JSON, then a newline and the flashed
 * keys when there are any.
 */
async function openWithJose(token: string, secret = testSecret, name = "sid") {
  const { plaintext, protectedHeader } = await compactDecrypt(token, await deriveCookieKey(secret, name).key);
  const match = /^([0-9a-z]+)\.([0-9a-z]+)\.(.*)$/s.exec(decoder.decode(plaintext));
  if (!match) throw new Error(`not our envelope: ${decoder.decode(plaintext)}`);
  const [content, flashed] = match[3]!.split("\n");
  const json = { d: JSON.parse(content!), ...(flashed === undefined ? {} : { f: JSON.parse(flashed) }) };
  return { protectedHeader, createdAt: parseInt(match[1]!, 36), expiresAt: parseInt(match[2]!, 36), json };
}

/** The attributes of a Set-Cookie value, by name (valueless flags map to `true`). */
function attributesOf(setCookie: string): Record<string, string | true> {
  const [, ...attributes] = setCookie.split(/;\s*/);
  return Object.fromEntries(
    attributes.map((attribute) => {
      const index = attribute.indexOf("=");
      return index === -1 ? [attribute, true] : [attribute.slice(0, index), attribute.slice(index + 1)];
    }),
  );
}

describe("the cookie is a compact JWE", () => {
  test('its protected header is exactly { alg: "dir", enc: "A256GCM" }, with an empty encrypted-key part', async () => {
    const login = await request(appWithSessions(routes)).post("/login");
    const token = tokenOf(login);
    const parts = token.split(".");
    expect(parts).toHaveLength(5);
    expect(parts[1]).toBe("");
    expect(parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part))).toBe(true);
    expect(protectedHeaderOf(token)).toEqual({ alg: "dir", enc: "A256GCM" });
  });

  test("jose's compactDecrypt opens our token with the derived key: createdAt.expiresAt.{json}", async () => {
    const before = Date.now();
    const login = await request(appWithSessions(routes)).post("/login");
    const after = Date.now();
    const opened = await openWithJose(tokenOf(login));
    expect(opened.protectedHeader).toEqual({ alg: "dir", enc: "A256GCM" });
    expect(opened.createdAt).toBeGreaterThanOrEqual(before);
    expect(opened.createdAt).toBeLessThanOrEqual(after);
    expect(opened.expiresAt - opened.createdAt).toBeGreaterThanOrEqual(3_600_000);
    expect(opened.expiresAt - opened.createdAt).toBeLessThan(3_600_000 + 2_000);
    expect(opened.json).toEqual({ d: { user, message: "Welcome back, Ada Lovelace" }, f: ["message"] });
  });

  test("each commit uses a fresh iv: the same session never gives the same token twice", async () => {
    const app = appWithSessions(routes);
    const [a, b] = await Promise.all([request(app).post("/login"), request(app).post("/login")]);
    expect(tokenOf(a).split(".")[2]).not.toBe(tokenOf(b).split(".")[2]);
  });

  test("our storage opens a token that jose sealed with the derived key and our envelope, flash included", async () => {
    const derived = deriveCookieKey(testSecret, "sid");
    const now = Date.now();
    const plaintext = `${now.toString(36)}.${(now + 60_000).toString(36)}.${JSON.stringify({ user: { id: 7 }, message: "from jose" })}\n${JSON.stringify(["message"])}`;
    const token = await new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(await derived.key);
    const app = appWithSessions(routes);
    const first = await request(app).get("/whoami").set("Cookie", `sid=${token}`);
    expect(first.body).toEqual({ user: { id: 7 }, message: "from jose" });
    // The flash was read: the commit dropped it, and the session keeps its start time.
    const reopened = await openWithJose(tokenOf(first));
    expect(reopened.json).toEqual({ d: { user: { id: 7 } } });
    expect(reopened.createdAt).toBe(now);
    const second = await request(app).get("/whoami").set("Cookie", cookiePair(first));
    expect(second.body).toEqual({ user: { id: 7 }, message: null });
  });
});

describe("secret rotation", () => {
  const secretA = testSecret;
  const secretB = otherSecret;
  const keyOf = async (secret: string) => deriveCookieKey(secret, "sid").key;
  const appWith = (secret: string | string[]) => appWithSessions(routes, { storage: cookieStorage({ secret }) });

  test("a cookie sealed under A is read by an app on [B, A] and re-sealed under B on that response, though nothing changed", async () => {
    const login = await request(appWith(secretA)).post("/login");
    const tokenA = tokenOf(login);
    await expect(compactDecrypt(tokenA, await keyOf(secretB))).rejects.toThrow();
    const app = appWith([secretB, secretA]);

    // A read-only request (the flash stays pending): re-sealed under B anyway, with the same content.
    const stillA = await request(app).get("/user").set("Cookie", `sid=${tokenA}`);
    expect(stillA.body).toEqual({ user });
    const resealed = tokenOf(stillA);
    expect(resealed).not.toBe(tokenA);
    const fromA = await openWithJose(tokenA, secretA);
    const fromB = await openWithJose(resealed, secretB);
    expect(fromB.json).toEqual(fromA.json);
    expect(fromB.createdAt).toBe(fromA.createdAt);
    await expect(compactDecrypt(resealed, await keyOf(secretA))).rejects.toThrow();

    // Once under B, a read-only request sends no cookie.
    const settled = await request(app).get("/user").set("Cookie", `sid=${resealed}`);
    expect(settled.body).toEqual({ user });
    expect(setCookieFor(settled)).toBeUndefined();

    // An app on B alone reads the re-sealed cookie, flash included.
    const onlyB = await request(appWith(secretB)).get("/whoami").set("Cookie", `sid=${resealed}`);
    expect(onlyB.body).toEqual({ user, message: "Welcome back, Ada Lovelace" });
  });

  test("an app on [B] alone reads a cookie sealed under A as an empty session", async () => {
    const login = await request(appWith(secretA)).post("/login");
    const res = await request(appWith(secretB)).get("/whoami").set("Cookie", cookiePair(login));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: null, message: null });
    expect(setCookieFor(res)).toBeUndefined();
  });

  test("the first secret seals new sessions", async () => {
    const login = await request(appWith([secretB, secretA])).post("/login");
    expect((await compactDecrypt(tokenOf(login), await keyOf(secretB))).plaintext.length).toBeGreaterThan(0);
    await expect(compactDecrypt(tokenOf(login), await keyOf(secretA))).rejects.toThrow();
  });
});

describe("the key is bound to the cookie name", () => {
  test("a token issued for cookie `prefs` does not open as `sid`, in the app or with jose", async () => {
    const prefsApp = appWithSessions(routes, { storage: cookieStorage({ name: "prefs" }) });
    const login = await request(prefsApp).post("/login");
    const token = tokenOf(login, "prefs");
    await expect(compactDecrypt(token, await deriveCookieKey(testSecret, "sid").key)).rejects.toThrow();
    expect((await openWithJose(token, testSecret, "prefs")).json.d.user).toEqual(user);

    const res = await request(appWithSessions(routes)).get("/whoami").set("Cookie", `sid=${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: null, message: null });
  });
});

describe("maxAge is enforced on the server", () => {
  test("with maxAge: 1, the cookie a client replays after 1.2 s reads as an empty session", async () => {
    const app = appWithSessions(routes, { storage: cookieStorage({ maxAge: 1 }) });
    const login = await request(app).post("/login");
    expect(attributesOf(setCookieFor(login)!)["Max-Age"]).toBe("1");
    const fresh = await request(app).get("/whoami").set("Cookie", cookiePair(login));
    expect(fresh.body.user).toEqual(user);
    // That read changed nothing that would renew the cookie; the client keeps sending the old one.
    await sleep(1_200);
    const replayed = await request(app).get("/whoami").set("Cookie", cookiePair(login));
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({ user: null, message: null });
  });
});

describe("Set-Cookie attributes", () => {
  test("default options: Max-Age=3600, Path=/, HttpOnly, SameSite=Lax and Secure; no Domain, no Expires", async () => {
    const storage = createCookieSessionStorage({ cookie: { name: "sid", secret: testSecret } });
    const app = appWithSessions(routes, { storage });
    const login = await request(app).post("/login");
    const setCookie = setCookieFor(login)!;
    expect(setCookie).toMatch(/^sid=[A-Za-z0-9_.-]+;/);
    const attributes = attributesOf(setCookie);
    // Max-Age alone: browsers give it precedence, and Expires would cost 39 bytes per cookie.
    expect(Object.keys(attributes).sort()).toEqual(["HttpOnly", "Max-Age", "Path", "SameSite", "Secure"]);
    expect(attributes).toMatchObject({ "Max-Age": "3600", Path: "/", HttpOnly: true, SameSite: "Lax", Secure: true });
  });

  test.each<[string, Partial<CookieOptions>, Record<string, string | true | undefined>]>([
    ["httpOnly: false", { httpOnly: false }, { HttpOnly: undefined }],
    ["secure: false", { secure: false }, { Secure: undefined }],
    ["secure: true", { secure: true }, { Secure: true }],
    ['path: "/app"', { path: "/app" }, { Path: "/app" }],
    ['domain: "example.com"', { domain: "example.com" }, { Domain: "example.com" }],
    ["maxAge: 60", { maxAge: 60 }, { "Max-Age": "60" }],
    ['sameSite: "strict"', { sameSite: "strict" }, { SameSite: "Strict" }],
    ['sameSite: "none" with secure: true', { sameSite: "none", secure: true }, { SameSite: "None", Secure: true }],
  ])("%s is reflected", async (_label, options, expected) => {
    const storage = createCookieSessionStorage({ cookie: { name: "sid", secret: testSecret, ...options } });
    const login = await request(appWithSessions(routes, { storage })).post("/login");
    const attributes = attributesOf(setCookieFor(login)!);
    for (const [name, value] of Object.entries(expected)) expect([name, attributes[name]]).toEqual([name, value]);
    expect(Number(attributes["Max-Age"])).toBe(options.maxAge ?? 3600);
  });
});

describe("a cookie over 4096 bytes", () => {
  test("commit() throws CookieTooLargeError naming the size and the limit, and suggesting a server-side storage", async () => {
    const session = await intoSessionStore(cookieStorage());
    session.set("blob", "x".repeat(5_000));
    const error = await session.commit().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CookieTooLargeError);
    expect(error).toBeInstanceOf(SessionError);
    const tooLarge = error as CookieTooLargeError;
    expect(tooLarge.code).toBe("ERR_SESSION_COOKIE_TOO_LARGE");
    expect(tooLarge.name).toBe("CookieTooLargeError");
    expect(tooLarge.cookieName).toBe("sid");
    expect(tooLarge.limit).toBe(4096);
    expect(tooLarge.size).toBeGreaterThan(4096);
    expect(tooLarge.message).toContain(`${tooLarge.size} bytes`);
    expect(tooLarge.message).toContain("4096");
    expect(tooLarge.message).toMatch(/server-side storage/);
  });

  test("the limit is exact: the largest value that commits gives a Set-Cookie of at most 4096 bytes, one more character throws", async () => {
    const commitWith = async (length: number) => {
      const session = await intoSessionStore(cookieStorage());
      session.set("blob", "x".repeat(length));
      return session.commit();
    };
    let fits = 0;
    let tooBig = 5_000;
    while (tooBig - fits > 1) {
      const middle = (fits + tooBig) >> 1;
      const ok = await commitWith(middle).then(
        () => true,
        (error: unknown) => {
          if (!(error instanceof CookieTooLargeError)) throw error;
          return false;
        },
      );
      if (ok) fits = middle;
      else tooBig = middle;
    }
    const header = await commitWith(fits);
    expect(Buffer.byteLength(header)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(header)).toBeGreaterThan(4096 - 8);
    await expect(commitWith(tooBig)).rejects.toMatchObject({ code: "ERR_SESSION_COOKIE_TOO_LARGE", limit: 4096 });
  });

  test("over HTTP: the response is a 500 from the error handler, with no Set-Cookie", async () => {
    const app = appWithSessions((app) => {
      app.post("/big", (req, res) => {
        req.session.set("blob", "x".repeat(5_000));
        res.send("saved");
      });
    });
    const res = await request(app).post("/big");
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^CookieTooLargeError: The session cookie "sid" would be \d+ bytes, over the 4096-byte limit/);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

describe("values the cookie storage refuses", () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const holes = [1, 2, 3];
  delete holes[1];

  test.each<[label: string, key: string, value: unknown, path: string, reason: RegExp]>([
    ["a function", "callback", () => 1, "callback", /function/],
    ["undefined", "missing", undefined, "missing", /undefined/],
    ["a Date", "when", new Date(0), "when", /Date/],
    ["a Map", "lookup", new Map([["a", 1]]), "lookup", /Map/],
    ["a Set", "tags", new Set(["a"]), "tags", /Set/],
    ["a class instance", "point", new Point(1), "point", /Point/],
    ["NaN", "ratio", NaN, "ratio", /NaN/],
    ["Infinity", "limit", Infinity, "limit", /Infinity/],
    ["-Infinity", "floor", -Infinity, "floor", /Infinity/],
    ["a BigInt", "big", 10n, "big", /bigint/],
    ["a symbol", "sym", Symbol("s"), "sym", /symbol/],
    ["a cyclic object", "node", cyclic, "node.self", /circular/],
    ["a Date nested in an array", "list", [1, "two", new Date(0)], "list[2]", /Date/],
    ["a Date nested in an object", "profile", { user: { name: "Ada", born: new Date(0) } }, "profile.user.born", /Date/],
    ["undefined nested in an object", "form", { a: 1, b: undefined }, "form.b", /undefined/],
    ["a function in an object in an array", "rows", [{ ok: true }, { fn: () => 1 }], "rows[1].fn", /function/],
    ["NaN in a nested array", "matrix", [[1, 2], [3, NaN]], "matrix[1][1]", /NaN/],
    ["a hole in a sparse array", "holes", holes, "holes[1]", /undefined/],
    ["a BigInt nested in an object", "ids", { list: [1n] }, "ids.list[0]", /bigint/],
  ])("%s throws SessionValueNotSerializableError naming the key and the path", async (_label, key, value, path, reason) => {
    const session = await intoSessionStore(cookieStorage());
    session.set("fine", "kept");
    session.set(key, value as Serializable);
    const error = await session.commit().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SessionValueNotSerializableError);
    expect(error).toBeInstanceOf(SessionError);
    const refused = error as SessionValueNotSerializableError;
    expect(refused.code).toBe("ERR_SESSION_VALUE_NOT_SERIALIZABLE");
    expect(refused.key).toBe(key);
    expect(refused.path).toBe(path);
    expect(refused.message).toContain(`"${path}"`);
    expect(refused.message).toMatch(reason);
  });

  test("over HTTP: a 500 from the error handler naming the path, with no Set-Cookie", async () => {
    const app = appWithSessions((app) => {
      app.post("/when", (req, res) => {
        req.session.set("profile", { born: new Date(0) });
        res.send("saved");
      });
    });
    const res = await request(app).post("/when");
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^SessionValueNotSerializableError: .*"profile\.born"/);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

describe("every Serializable shape reads back deep-equal", () => {
  const shapes: Record<string, Serializable> = {
    text: "plain",
    unicode: "héllo wörld — 日本語 — 한국어 — العربية — 🍪👩‍💻🇫🇷 — \u0000\u2028\u2029\"\\;,=",
    loneSurrogate: "\ud800",
    empty: "",
    zero: 0,
    negative: -17.25,
    maxSafe: Number.MAX_SAFE_INTEGER,
    minSafe: Number.MIN_SAFE_INTEGER,
    tiny: 1e-300,
    huge: Number.MAX_VALUE,
    yes: true,
    no: false,
    nothing: null,
    emptyArray: [],
    emptyObject: {},
    nestedArrays: [[[]], [1, [2, [3, ["deep"]]]], [{ a: [{ b: [null] }] }]],
    nestedObject: { with: { deep: { keys: { and: ["arrays", 1, true, null] } } } },
    trickyKeys: JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":"x","":"empty key","a.b":1,"[0]":2}',
    ),
    __proto__: { top: "level" },
    constructor: "a session key named constructor",
    hasOwnProperty: ["also", "fine"],
  };
  // `__proto__` in an object literal sets the prototype: define it as an own key instead.
  delete (shapes as Record<string, unknown>)["__proto__"];
  Object.defineProperty(shapes, "__proto__", { value: { top: "level" }, enumerable: true, configurable: true, writable: true });

  test("through commit and a new session from the header", async () => {
    expect(Object.keys(shapes)).toContain("__proto__");
    const storage = cookieStorage();
    const session = await intoSessionStore(storage);
    for (const [key, value] of Object.entries(shapes)) session.set(key, value);
    const header = await session.commit();
    const back = await intoSessionStore(storage, header.split(";")[0]);
    for (const [key, value] of Object.entries(shapes)) expect([key, back.get(key)]).toEqual([key, value]);
    const tricky = back.get("trickyKeys") as Record<string, unknown>;
    expect(Object.getPrototypeOf(tricky)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(tricky, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(back.get("loneSurrogate")).toBe("\ud800");
  });

  test("over HTTP, across two requests", async () => {
    const app = appWithSessions((app) => {
      app.post("/save", (req, res) => {
        for (const [key, value] of Object.entries(shapes)) req.session.set(key, value);
        res.send("saved");
      });
      app.get("/check", (req, res) => {
        const mismatches = Object.entries(shapes)
          .filter(([key, value]) => !isDeepStrictEqual(req.session.get(key), value))
          .map(([key]) => key);
        res.json(mismatches);
      });
    });
    const saved = await request(app).post("/save");
    const checked = await request(app).get("/check").set("Cookie", cookiePair(saved));
    expect(checked.body).toEqual([]);
  });

  test("-0 is accepted but reads back as 0 (JSON has no negative zero): noted", async () => {
    const storage = cookieStorage();
    const session = await intoSessionStore(storage);
    session.set("negativeZero", -0);
    const back = await intoSessionStore(storage, (await session.commit()).split(";")[0]);
    expect(Object.is(back.get("negativeZero"), 0)).toBe(true);
  });
});

describe("the size of a typical cookie", () => {
  test("a user and one flash message, default options: under 600 bytes", async () => {
    const storage = createCookieSessionStorage({ cookie: { name: "sid", secret: testSecret } });
    const login = await request(appWithSessions(routes, { storage })).post("/login");
    const setCookie = setCookieFor(login)!;
    expect(Buffer.byteLength(setCookie)).toBeLessThan(600);
  });

  test("the benchmark's 200-byte session: a Set-Cookie of at most 450 bytes, a jose compact JWE plus 24 bytes of timestamps", async () => {
    const storage = createCookieSessionStorage({ cookie: { name: "sid", secret: testSecret, secure: false } });
    const session = await intoSessionStore(storage);
    const benchUser = { id: 42, name: "Ada Lovelace", email: "ada@example.com", roles: ["admin", "editor"], bio: "" };
    benchUser.bio = "lorem ipsum ".repeat(20).slice(0, 200 - JSON.stringify(benchUser).length);
    expect(JSON.stringify(benchUser)).toHaveLength(200);
    session.set("counter", 1);
    session.set("user", benchUser);
    const setCookie = await session.commit();
    expect(Buffer.byteLength(setCookie)).toBeLessThanOrEqual(450);

    // The same content sealed by jose alone, with no envelope: ours is longer only by the two timestamps.
    const contentJson = JSON.stringify({ counter: 1, user: benchUser });
    const joseToken = await new CompactEncrypt(new TextEncoder().encode(contentJson))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(await deriveCookieKey(testSecret, "sid").key);
    const ourToken = setCookie.split(";")[0]!.slice("sid=".length);
    expect(ourToken.length - joseToken.length).toBeLessThanOrEqual(24);
  });
});
