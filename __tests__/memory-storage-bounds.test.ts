// The memory storage's bound on the sessions it holds: what counts as a change, tokens that
// outlive their session, the least-recently-used order (and expiry before eviction), and
// misspelled options refused at start-up.
import { afterEach, describe, expect, test } from "@jest/globals";
import type { Express } from "express";
import { createServer, type Server } from "node:http";
import request from "supertest";
import {
  SessionConfigError,
  createCookieSessionStorage,
  createMemorySessionStorage,
  type CookieOptions,
  type MemorySessionStorageOptions,
} from "../lib/index.js";
import { appWithSessions, cookiePair, setCookieFor, testCookie } from "./fixtures.js";

const t0 = Date.UTC(2030, 0, 1);
const minutes = 60_000;

/** A clock the test sets by hand, in ms since the epoch. */
function handClock(start = t0) {
  let now = start;
  return { now: () => now, setTo: (at: number) => void (now = at) };
}

function routes(app: Express) {
  app.post("/login/:name", (req, res) => {
    req.session.set("user", { name: req.params.name });
    res.sendStatus(204);
  });
  app.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null }));
  app.post("/logout", (req, res) => {
    req.session.destroy();
    res.sendStatus(204);
  });
  // "Empty my cart": harmless for a visitor who never had one.
  app.post("/cart/clear", (req, res) => {
    req.session.unset("cart");
    res.sendStatus(204);
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * The site on a real port, with a memory storage: a user logs in, asks who they are, logs
 * out, or clears a cart. Listening once keeps thousands of requests quick.
 */
async function memorySite(options: Omit<MemorySessionStorageOptions, "cookie"> = {}, cookie: Partial<CookieOptions> = {}) {
  const storage = createMemorySessionStorage({ cookie: testCookie(cookie), ...options });
  const server = createServer(appWithSessions(routes, { storage }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return {
    storage,
    server,
    /** Logs `name` in and returns the cookie their browser keeps. */
    logIn: async (name: string) => cookiePair(await request(server).post(`/login/${name}`)),
    /** Who the site thinks the holder of `cookie` is (null: nobody). */
    whoIs: async (cookie: string): Promise<string | null> =>
      ((await request(server).get("/me").set("Cookie", cookie)).body as { user: { name: string } | null }).user?.name ?? null,
    logOut: (cookie: string) => request(server).post("/logout").set("Cookie", cookie),
    clearCart: () => request(server).post("/cart/clear"),
  };
}

/** Runs `count` calls of `send`, `batch` at a time. */
async function flood(count: number, send: () => PromiseLike<unknown>, batch = 50) {
  for (let sent = 0; sent < count; sent += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - sent) }, () => send()));
  }
}

describe("unsetting a key the session never had is not a change", () => {
  test("a visitor with no cookie clears an empty cart: no Set-Cookie, nothing stored", async () => {
    const site = await memorySite();
    const response = await site.clearCart();
    expect(response.status).toBe(204);
    expect(setCookieFor(response)).toBeUndefined();
    expect(site.storage.size).toBe(0);
  });

  test("1 000 cookieless requests to the cart route do not evict 100 logged-in users (maxSessions 500)", async () => {
    const site = await memorySite({ maxSessions: 500 });
    const cookies: string[] = [];
    for (let index = 0; index < 100; index++) cookies.push(await site.logIn(`user${index}`));
    expect(site.storage.size).toBe(100);

    await flood(1_000, () => site.clearCart());

    let stillLoggedIn = 0;
    for (const [index, cookie] of cookies.entries()) if ((await site.whoIs(cookie)) === `user${index}`) stillLoggedIn++;
    expect(stillLoggedIn).toBe(100);
    expect(site.storage.size).toBe(100);
  }, 30_000);
});

describe("a token kept after logout does not bring a session back", () => {
  test("replayed when renewal would be due, it reads as nobody, stores nothing and sets no cookie", async () => {
    const clock = handClock();
    const site = await memorySite({ clock: clock.now }, { maxAge: 3600 });
    const bob = await site.logIn("bob"); // another user, so "size unchanged" is not just "still 0"
    const kept = await site.logIn("alice");
    clock.setTo(t0 + 1 * minutes);
    expect((await site.logOut(kept)).status).toBe(204);
    expect(site.storage.size).toBe(1);

    clock.setTo(t0 + 35 * minutes); // 25 of 60 minutes left on the token: a live session would be renewed now
    for (let replay = 0; replay < 3; replay++) {
      const response = await request(site.server).get("/me").set("Cookie", kept);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ user: null });
      expect(setCookieFor(response)).toBeUndefined();
      expect(site.storage.size).toBe(1);
    }
    expect(await site.whoIs(bob)).toBe("bob");
  });
});

describe("the bound drops expired sessions before evicting live ones", () => {
  test("an expired session read recently is dropped, not the live one that was read less recently", async () => {
    const clock = handClock();
    const site = await memorySite({ maxSessions: 2, clock: clock.now }, { maxAge: 3600 });
    const alice = await site.logIn("alice"); // expires at t0 + 60 min unless renewed
    clock.setTo(t0 + 10 * minutes);
    const bob = await site.logIn("bob"); // expires at t0 + 70 min

    clock.setTo(t0 + 11 * minutes);
    const read = await request(site.server).get("/me").set("Cookie", alice); // moves alice to the back
    expect(read.body).toEqual({ user: { name: "alice" } });
    expect(setCookieFor(read)).toBeUndefined(); // no change, no renewal: her expiry stays t0 + 60 min

    clock.setTo(t0 + 61 * minutes); // alice has expired, bob has 9 minutes left
    await site.logIn("carol");

    expect(await site.whoIs(bob)).toBe("bob");
    expect(await site.whoIs(alice)).toBeNull();
  });
});

describe("least recently used first", () => {
  test("with room for two, reading A after creating B makes B the one evicted for C", async () => {
    const site = await memorySite({ maxSessions: 2 });
    const alice = await site.logIn("alice");
    const bob = await site.logIn("bob");
    expect(await site.whoIs(alice)).toBe("alice"); // a read, no change
    const carol = await site.logIn("carol");

    expect(site.storage.size).toBe(2);
    expect(await site.whoIs(bob)).toBeNull();
    expect(await site.whoIs(alice)).toBe("alice");
    expect(await site.whoIs(carol)).toBe("carol");
  });
});

describe("misspelled storage options fail at start-up", () => {
  /** What `create` threw (fails the test when it did not throw). */
  function thrownBy(create: () => unknown): unknown {
    try {
      create();
    } catch (error) {
      return error;
    }
    throw new Error("expected a SessionConfigError, but the storage was created");
  }

  test("createMemorySessionStorage({ maxSession: 5 }) names maxSessions", () => {
    const error = thrownBy(() =>
      createMemorySessionStorage({ cookie: testCookie(), maxSession: 5 } as unknown as MemorySessionStorageOptions),
    );
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as SessionConfigError).message).toMatch(/maxSessions/);
  });

  test("createCookieSessionStorage({ clok }) lists or suggests clock", () => {
    const error = thrownBy(() =>
      createCookieSessionStorage({ cookie: testCookie(), clok: Date.now } as unknown as Parameters<typeof createCookieSessionStorage>[0]),
    );
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as SessionConfigError).message).toMatch(/\bclock\b/);
  });
});
