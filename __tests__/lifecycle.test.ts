import { describe, expect, test } from "@jest/globals";
import type { Express } from "express";
import request from "supertest";
import {
  createCookieSessionStorage,
  createMemorySessionStorage,
  type CookieOptions,
  type SessionStorage,
} from "../lib/index.js";
import { appWithSessions, cookiePair, setCookieFor, testCookie } from "./fixtures.js";

type StorageFactory = (cookie: CookieOptions, clock: () => number) => SessionStorage<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const storages: [string, StorageFactory, { isStateless: boolean }][] = [
  ["cookie storage", (cookie, clock) => createCookieSessionStorage({ cookie, clock }), { isStateless: true }],
  ["memory storage", (cookie, clock) => createMemorySessionStorage({ cookie, clock }), { isStateless: false }],
];

/** An app over `storage` whose time is `clock.now`: login, logout, a page, a read-only probe. */
function lifecycleApp(createStorage: StorageFactory, cookie: Partial<CookieOptions> = {}, routes: (app: Express) => void = () => {}) {
  const clock = { now: Date.UTC(2030, 0, 1) };
  const storage = createStorage(testCookie({ maxAge: 600, absoluteTimeout: 3600, ...cookie }), () => clock.now);
  const app = appWithSessions(
    (app) => {
      app.post("/login", (req, res) => {
        req.session.regenerate();
        req.session.set("user", "ada");
        req.session.flash("message", "Welcome back");
        res.redirect("/");
      });
      app.post("/logout", (req, res) => {
        req.session.destroy();
        req.session.flash("message", "Signed out");
        res.redirect("/");
      });
      app.post("/forget", (req, res) => {
        req.session.destroy();
        res.sendStatus(204);
      });
      app.get("/", (req, res) => res.json({ user: req.session.get("user") ?? null, message: req.session.get("message") ?? null }));
      app.get("/probe", (req, res) => res.json({ user: req.session.get("user") ?? null }));
      routes(app);
    },
    { storage },
  );
  return { app, clock, storage };
}

describe.each(storages)("session lifecycle with the %s", (_name, createStorage, { isStateless }) => {
  test("destroy() deletes the cookie in the browser (Max-Age=0, an expiry in the past)", async () => {
    const { app } = lifecycleApp(createStorage);
    const login = await request(app).post("/login");
    const forget = await request(app).post("/forget").set("Cookie", cookiePair(login));
    const deletion = setCookieFor(forget)!;
    expect(deletion).toMatch(/^sid=;/);
    expect(deletion).toMatch(/Max-Age=0/);
    expect(deletion).toMatch(/Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
    const next = await request(app).get("/probe").set("Cookie", cookiePair(forget));
    expect(next.body).toEqual({ user: null });
  });

  test("after logout the next request starts empty, and a flash set after destroy() is shown", async () => {
    const { app } = lifecycleApp(createStorage);
    const login = await request(app).post("/login");
    const logout = await request(app).post("/logout").set("Cookie", cookiePair(login));
    const page = await request(app).get("/").set("Cookie", cookiePair(logout));
    expect(page.body).toEqual({ user: null, message: "Signed out" });
  });

  test("regenerate() at login issues a new cookie that keeps the data", async () => {
    const { app } = lifecycleApp(createStorage, {}, (app) => {
      app.post("/remember", (req, res) => {
        req.session.set("cart", ["book"]);
        res.sendStatus(204);
      });
      app.get("/cart", (req, res) => res.json({ cart: req.session.get("cart") ?? null, user: req.session.get("user") ?? null }));
    });
    const anonymous = await request(app).post("/remember");
    const login = await request(app).post("/login").set("Cookie", cookiePair(anonymous));
    expect(cookiePair(login)).not.toBe(cookiePair(anonymous));
    const cart = await request(app).get("/cart").set("Cookie", cookiePair(login));
    expect(cart.body).toEqual({ cart: ["book"], user: "ada" });
    const planted = await request(app).get("/cart").set("Cookie", cookiePair(anonymous));
    // A server-side storage kills the old identity; a cookie cannot be revoked.
    expect(planted.body).toEqual(isStateless ? { cart: ["book"], user: null } : { cart: null, user: null });
  });

  test("a session idle for longer than maxAge reads as empty, even if the client keeps its cookie", async () => {
    const { app, clock } = lifecycleApp(createStorage);
    const login = await request(app).post("/login");
    clock.now += 599_000;
    expect((await request(app).get("/probe").set("Cookie", cookiePair(login))).body).toEqual({ user: "ada" });
    clock.now += 2_000;
    expect((await request(app).get("/probe").set("Cookie", cookiePair(login))).body).toEqual({ user: null });
  });

  test("an active session ends at the absolute timeout", async () => {
    const { app, clock } = lifecycleApp(createStorage);
    let cookie = cookiePair(await request(app).post("/login"));
    for (let minutes = 4; minutes < 60; minutes += 4) {
      clock.now += 240_000;
      const page = await request(app).get("/probe").set("Cookie", cookie);
      expect(page.body).toEqual({ user: "ada" });
      cookie = setCookieFor(page) ? cookiePair(page) : cookie;
    }
    // 56 minutes in, active all along: the 60th minute ends it, however recently it was used.
    clock.now += 240_000;
    expect((await request(app).get("/probe").set("Cookie", cookie)).body).toEqual({ user: null });
  });

  test("an unchanged session is renewed only once less than half its lifetime is left", async () => {
    const { app, clock } = lifecycleApp(createStorage);
    const login = await request(app).post("/login");
    const consumed = await request(app).get("/").set("Cookie", cookiePair(login)); // drops the flash
    clock.now += 200_000; // 400 s of 600 left: no renewal
    const early = await request(app).get("/probe").set("Cookie", cookiePair(consumed));
    expect(setCookieFor(early)).toBeUndefined();
    clock.now += 150_000; // 250 s left: renew
    const renewal = await request(app).get("/probe").set("Cookie", cookiePair(consumed));
    expect(setCookieFor(renewal)).toMatch(/Max-Age=600/);
    clock.now += 500_000; // past the first cookie's expiry, within the renewed one's
    expect((await request(app).get("/probe").set("Cookie", cookiePair(consumed))).body).toEqual({ user: null });
    expect((await request(app).get("/probe").set("Cookie", cookiePair(renewal))).body).toEqual({ user: "ada" });
  });

  test("a slow request that started before logout and changed nothing sends no cookie", async () => {
    let releaseSlowRequest!: () => void;
    const slowRequestMayFinish = new Promise<void>((resolve) => (releaseSlowRequest = resolve));
    const { app } = lifecycleApp(createStorage, {}, (app) => {
      app.get("/slow", async (req, res) => {
        req.session.get("user");
        await slowRequestMayFinish;
        res.json({ done: true });
      });
    });
    const login = await request(app).post("/login");
    const page = await request(app).get("/").set("Cookie", cookiePair(login));
    const slow = request(app).get("/slow").set("Cookie", cookiePair(page)).then((response) => response);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logout = await request(app).post("/forget").set("Cookie", cookiePair(page));
    releaseSlowRequest();
    const slowResponse = await slow;
    expect(setCookieFor(slowResponse)).toBeUndefined();
    expect((await request(app).get("/probe").set("Cookie", cookiePair(logout))).body).toEqual({ user: null });
    if (!isStateless) {
      expect((await request(app).get("/probe").set("Cookie", cookiePair(page))).body).toEqual({ user: null });
    }
  });
});

describe("session lifecycle specific to server-side storage", () => {
  test("a slow request whose renewal falls due after logout does not bring the session back", async () => {
    let releaseSlowRequest!: () => void;
    const slowRequestMayFinish = new Promise<void>((resolve) => (releaseSlowRequest = resolve));
    const { app, clock } = lifecycleApp((cookie, clock) => createMemorySessionStorage({ cookie, clock }), {}, (app) => {
      app.get("/slow", async (req, res) => {
        await slowRequestMayFinish;
        res.json({ user: req.session.get("user") ?? null });
      });
    });
    const login = await request(app).post("/login");
    clock.now += 400_000; // renewal due for every request from now on
    const slow = request(app).get("/slow").set("Cookie", cookiePair(login)).then((response) => response);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await request(app).post("/forget").set("Cookie", cookiePair(login));
    releaseSlowRequest();
    await slow;
    expect((await request(app).get("/probe").set("Cookie", cookiePair(login))).body).toEqual({ user: null });
  });
});
