// Hostile input and risky configuration: tokens from the future, timeouts lowered after cookies
// were issued, cookies planted beside ours, prefixes in any case, values built to exhaust the
// serializer, and the exact edges of the cookie's lifetime and size.
import { describe, expect, test } from "@jest/globals";
import express, { type Express } from "express";
import { CompactEncrypt } from "jose";
import { performance } from "node:perf_hooks";
import request from "supertest";
import { deriveCookieKey } from "../lib/encryption/cookie-keys.js";
import {
  CookieTooLargeError,
  SessionConfigError,
  SessionError,
  SessionValueNotSerializableError,
  createCookieSessionStorage,
  createMemorySessionStorage,
  intoSessionStore,
  type Clock,
  type CookieOptions,
  type SessionStorage,
} from "../lib/index.js";
import { appWithSessions, cookiePair, setCookieFor, testCookie, testSecret } from "./fixtures.js";

const t0 = Date.UTC(2030, 0, 1);
const seconds = 1_000;
const user = { id: 7, name: "Ada" };

/** A clock the test sets by hand, in ms since the epoch. */
function handClock(start = t0) {
  let now = start;
  return { now: () => now, setTo: (at: number) => void (now = at) };
}

function routes(app: Express) {
  app.post("/login", (req, res) => {
    req.session.set("user", user);
    res.sendStatus(204);
  });
  app.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null }));
  // Any activity that writes: keeps an idle session alive.
  app.post("/touch", (req, res) => {
    req.session.set("touches", ((req.session.get("touches") as number | undefined) ?? 0) + 1);
    res.sendStatus(204);
  });
  app.post("/form", express.json({ limit: "1mb" }), (req, res) => {
    req.session.set("form", req.body);
    res.sendStatus(204);
  });
}

/** The site with a cookie storage on `cookie` settings (plain http) and `clock`. */
function cookieSite(cookie: Partial<CookieOptions> = {}, clock?: Clock) {
  return appWithSessions(routes, { storage: createCookieSessionStorage({ cookie: testCookie(cookie), clock }) });
}

const whoIs = async (app: Express, cookie: string) => (await request(app).get("/me").set("Cookie", cookie)).body.user;

/** A token sealed with jose under the real derived key, holding our envelope `createdAt.expiresAt.{json}`. */
async function sealToken({ createdAt, expiresAt, content }: { createdAt: number; expiresAt: number; content: object }) {
  const plaintext = `${createdAt.toString(36)}.${expiresAt.toString(36)}.${JSON.stringify(content)}`;
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .encrypt(await deriveCookieKey(testSecret, "sid").key);
}

/** What `commit` rejected with, and how long it took (fails the test when it resolved). */
async function failedCommit(storage: SessionStorage<unknown, unknown>, key: string, value: unknown) {
  const session = await intoSessionStore(storage);
  session.set(key, value);
  const started = performance.now();
  const error = await session.commit().then(
    () => new Error("the commit succeeded"),
    (caught: unknown) => caught,
  );
  return { error, elapsedMs: performance.now() - started };
}

describe("a token dated in the future", () => {
  test("created a day from now (a forged or mis-stamped token) reads as an empty session", async () => {
    const clock = handClock();
    const createdAt = t0 + 24 * 3600 * seconds;
    const token = await sealToken({ createdAt, expiresAt: createdAt + 3600 * seconds, content: { user } });
    expect(await whoIs(cookieSite({}, clock.now), `sid=${token}`)).toBeNull();
  });

  test("created 2 s from now (a server whose clock runs ahead) still reads: users are not logged out", async () => {
    const clock = handClock();
    const createdAt = t0 + 2 * seconds;
    const token = await sealToken({ createdAt, expiresAt: createdAt + 3600 * seconds, content: { user } });
    expect(await whoIs(cookieSite({}, clock.now), `sid=${token}`)).toEqual(user);
  });
});

describe("lowered timeouts apply to sessions that already exist", () => {
  test("a cookie issued under maxAge 3600 is read as empty once maxAge is 60", async () => {
    const clock = handClock();
    const login = await request(cookieSite({ maxAge: 3600 }, clock.now)).post("/login");
    clock.setTo(t0 + 1 * seconds);
    expect(await whoIs(cookieSite({ maxAge: 3600 }, clock.now), cookiePair(login))).toEqual(user); // the control
    expect(await whoIs(cookieSite({ maxAge: 60 }, clock.now), cookiePair(login))).toBeNull();
  });

  test("a session started 2 h ago and kept active is read as empty once absoluteTimeout is 3600", async () => {
    const clock = handClock();
    const before = cookieSite({ maxAge: 3600, absoluteTimeout: 43_200 }, clock.now);
    let cookie = cookiePair(await request(before).post("/login"));
    for (const minute of [50, 100]) {
      clock.setTo(t0 + minute * 60 * seconds);
      cookie = cookiePair(await request(before).post("/touch").set("Cookie", cookie));
    }
    clock.setTo(t0 + 120 * 60 * seconds);
    expect(await whoIs(before, cookie)).toEqual(user); // the control: still alive under the old settings
    expect(await whoIs(cookieSite({ maxAge: 3600, absoluteTimeout: 3600 }, clock.now), cookie)).toBeNull();
  });
});

describe("cookies planted beside ours do not hide it", () => {
  test("three junk values of our name before the valid one: the session is read", async () => {
    const app = cookieSite();
    const valid = cookiePair(await request(app).post("/login"));
    expect(await whoIs(app, `sid=junk1; sid=junk2; sid=junk3; ${valid}`)).toEqual(user);
  });

  test("three cookies whose names end with ours before the valid one: the session is read", async () => {
    const app = cookieSite();
    const valid = cookiePair(await request(app).post("/login"));
    expect(await whoIs(app, `a_sid=x; b_sid=y; xsid=z; ${valid}`)).toEqual(user);
  });
});

describe("cookie-name prefixes are matched in any case, as browsers do", () => {
  test.each<[string, Partial<CookieOptions>]>([
    ["__host-sid", { secure: false }],
    ["__HOST-sid", { secure: false }],
    ["__host-sid", { secure: true, path: "/x" }],
    ["__HOST-sid", { secure: true, path: "/x" }],
    ["__host-sid", { secure: true, domain: "example.com" }],
    ["__HOST-sid", { secure: true, domain: "example.com" }],
    ["__secure-sid", { secure: false }],
    ["__SECURE-sid", { secure: false }],
  ])("%s with %o fails at start-up", (name, overrides) => {
    expect(() => createCookieSessionStorage({ cookie: testCookie({ name, ...overrides }) })).toThrow(SessionConfigError);
  });
});

describe("maxAge against absoluteTimeout", () => {
  test("maxAge 7200 with absoluteTimeout 3600, both given, fails at start-up", () => {
    expect(() => createCookieSessionStorage({ cookie: testCookie({ maxAge: 7200, absoluteTimeout: 3600 }) })).toThrow(
      SessionConfigError,
    );
  });

  test("maxAge of a week alone starts, and the cookie lasts a week (the default absolute timeout rises to it)", async () => {
    const week = 604_800;
    const login = await request(cookieSite({ maxAge: week })).post("/login");
    expect(setCookieFor(login)).toMatch(new RegExp(`; Max-Age=${week};`));
  });
});

describe("values built to exhaust the serializer fail fast, naming the key", () => {
  const depth = 10_000;
  const deeplyNested = () => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown; // 20 kB of JSON

  /** A storage that has already committed once, so timings exclude warm-up. */
  async function warmStorage() {
    const storage = createCookieSessionStorage({ cookie: testCookie() });
    const session = await intoSessionStore(storage);
    session.set("warm", [1, [2, [3]]]);
    await session.commit();
    return storage;
  }

  test("a value nested 10 000 levels deep: SessionValueNotSerializableError for `form`, in under 50 ms", async () => {
    const { error, elapsedMs } = await failedCommit(await warmStorage(), "form", deeplyNested());
    expect(error).toBeInstanceOf(SessionValueNotSerializableError);
    expect(error).toMatchObject({ code: "ERR_SESSION_VALUE_NOT_SERIALIZABLE", key: "form" });
    expect(elapsedMs).toBeLessThan(50);
  });

  test("posted as a form over HTTP, it reaches the error handler: 500, not a bare RangeError", async () => {
    const response = await request(cookieSite())
      .post("/form")
      .set("Content-Type", "application/json")
      .send("[".repeat(depth) + "]".repeat(depth));
    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^SessionValueNotSerializableError: /);
    expect(setCookieFor(response)).toBeUndefined();
  });

  test("an array of 200 000 numbers: a SessionError with an ERR_SESSION_ code, in under 200 ms", async () => {
    const wide = Array.from({ length: 200_000 }, (_, index) => index);
    const { error, elapsedMs } = await failedCommit(await warmStorage(), "form", wide);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toMatch(/^ERR_SESSION_/);
    if (error instanceof SessionValueNotSerializableError) expect(error.key).toBe("form");
    expect(elapsedMs).toBeLessThan(200);
  });
});

describe("near the absolute limit, the cookie lasts only what is left", () => {
  test.each<[string, (cookie: CookieOptions, clock: Clock) => SessionStorage<unknown, unknown>]>([
    ["cookie storage", (cookie, clock) => createCookieSessionStorage({ cookie, clock })],
    ["memory storage", (cookie, clock) => createMemorySessionStorage({ cookie, clock })],
  ])("%s: renewed 3000 s into a 3600 s session, Max-Age is the 600 s left, not maxAge 1800", async (_label, create) => {
    const clock = handClock();
    const app = appWithSessions(routes, { storage: create(testCookie({ maxAge: 1800, absoluteTimeout: 3600 }), clock.now) });
    let cookie = cookiePair(await request(app).post("/login"));
    clock.setTo(t0 + 1500 * seconds);
    cookie = cookiePair(await request(app).post("/touch").set("Cookie", cookie));
    clock.setTo(t0 + 3000 * seconds);
    const renewed = await request(app).post("/touch").set("Cookie", cookie);
    const maxAge = Number(/; Max-Age=(\d+)/.exec(setCookieFor(renewed) ?? "")?.[1]);
    expect(Math.abs(maxAge - 600)).toBeLessThanOrEqual(1);
  });
});

describe("the 4096-byte limit is exact", () => {
  /** The Set-Cookie size a session of one `length`-character string gives, accepted or refused. */
  async function commitBlob(path: string, length: number): Promise<{ size: number; header?: string; error?: unknown }> {
    const clock = handClock();
    const session = await intoSessionStore(createCookieSessionStorage({ cookie: testCookie({ path }), clock: clock.now }));
    session.set("blob", "x".repeat(length));
    return session.commit().then(
      (header) => ({ size: Buffer.byteLength(header), header }),
      (error: unknown) => {
        if (!(error instanceof CookieTooLargeError)) throw error;
        return { size: error.size, error };
      },
    );
  }

  /**
   * A cookie path, and the blob lengths that give Set-Cookie values of exactly 4096 and 4097
   * bytes. base64url skips one length in four, so the path is lengthened until both exist.
   */
  async function findEdge() {
    for (let extra = 0; extra < 4; extra++) {
      const path = `/${"p".repeat(extra)}`;
      let [low, high] = [0, 4096]; // sizes grow with the length: the first length reaching 4096
      while (low < high) {
        const middle = (low + high) >> 1;
        if ((await commitBlob(path, middle)).size < 4096) low = middle + 1;
        else high = middle;
      }
      if ((await commitBlob(path, low)).size === 4096 && (await commitBlob(path, low + 1)).size === 4097) {
        return { path, fits: low, tooLarge: low + 1 };
      }
    }
    throw new Error("no cookie path gives Set-Cookie values of both 4096 and 4097 bytes");
  }

  test("a Set-Cookie of exactly 4096 bytes is sent; one of 4097 is refused with CookieTooLargeError", async () => {
    const { path, fits, tooLarge } = await findEdge();

    const accepted = await commitBlob(path, fits);
    expect(accepted.error).toBeUndefined();
    expect(Buffer.byteLength(accepted.header!)).toBe(4096);

    const refused = await commitBlob(path, tooLarge);
    expect(refused.error).toBeInstanceOf(CookieTooLargeError);
    expect(refused.error).toMatchObject({ size: 4097, limit: 4096 });

    // Over HTTP, the 4096-byte cookie reaches the browser.
    const app = appWithSessions(
      (app) =>
        app.post("/blob", (req, res) => {
          req.session.set("blob", "x".repeat(fits));
          res.sendStatus(204);
        }),
      { storage: createCookieSessionStorage({ cookie: testCookie({ path }), clock: handClock().now }) },
    );
    const response = await request(app).post("/blob");
    expect(response.status).toBe(204);
    expect(Buffer.byteLength(setCookieFor(response)!)).toBe(4096);
  });
});
