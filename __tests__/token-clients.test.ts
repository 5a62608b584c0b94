// API and mobile clients: the session travels as a bare token, received in a response header
// and sent back as `Authorization: Bearer <token>`, with the same expiry, renewal, rotation,
// regenerate() and destroy() as cookies.
import { describe, expect, test } from "@jest/globals";
import express, { type Express, type IRouter } from "express";
import request from "supertest";
import {
  createCookieSessionStorage,
  createMemorySessionStorage,
  sessions,
  type Clock,
  type CookieOptions,
  type SessionStorage,
} from "../lib/index.js";
import { cookiePair, otherSecret, setCookies, testCookie, testSecret } from "./fixtures.js";

type StorageFactory = (cookie: CookieOptions, clock?: Clock) => SessionStorage<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const storages: [string, StorageFactory, { revocable: boolean }][] = [
  ["memory storage", (cookie, clock) => createMemorySessionStorage({ cookie, clock }), { revocable: true }],
  ["cookie storage", (cookie, clock) => createCookieSessionStorage({ cookie, clock }), { revocable: false }],
];

const tokenHeader = "x-session-token";

/** The API: login (regenerate), whoami, a counter that writes, logout (destroy). */
function apiRoutes(router: IRouter) {
  router.post("/login", (req, res) => {
    req.session.regenerate();
    req.session.set("user", "ada");
    res.status(201).json({ ok: true });
  });
  router.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null }));
  router.post("/count", (req, res) => {
    const count = ((req.session.get("count") as number | undefined) ?? 0) + 1;
    req.session.set("count", count);
    res.json({ count });
  });
  router.post("/logout", (req, res) => {
    req.session.destroy();
    res.json({ ok: true });
  });
}

function tokenApp(storage: SessionStorage<any, any>): Express { // eslint-disable-line @typescript-eslint/no-explicit-any
  const app = express();
  app.use(sessions({ storage, headerName: "authorization", responseHeaderName: tokenHeader }));
  apiRoutes(app);
  return app;
}

const tokenOf = (res: request.Response) => res.headers[tokenHeader] as string | undefined;
const bearer = (token: string) => `Bearer ${token}`;

describe.each(storages)("token clients with the %s", (_name, createStorage, { revocable }) => {
  test("the client receives a bare token (no cookie attributes, no Set-Cookie) and is known by it as a bearer token", async () => {
    const app = tokenApp(createStorage(testCookie()));
    const login = await request(app).post("/login");
    const token = tokenOf(login)!;
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(setCookies(login)).toEqual([]);

    const me = await request(app).get("/me").set("Authorization", bearer(token));
    expect(me.body).toEqual({ user: "ada" });
    // Reading changed nothing: no new token.
    expect(tokenOf(me)).toBeUndefined();
  });

  test("the scheme is matched in any case, and a bare token works in the header too", async () => {
    const app = tokenApp(createStorage(testCookie()));
    const token = tokenOf(await request(app).post("/login"))!;
    for (const header of [`bearer ${token}`, `BEARER  ${token}`, token]) {
      expect((await request(app).get("/me").set("Authorization", header)).body).toEqual({ user: "ada" });
    }
  });

  test("a forged, truncated or missing token is a fresh, empty session", async () => {
    const app = tokenApp(createStorage(testCookie()));
    const token = tokenOf(await request(app).post("/login"))!;
    for (const header of ["Bearer", "Bearer ", `Bearer ${token.slice(0, -3)}`, "Bearer a.b.c.d.e", "Basic dXNlcjpwYXNz"]) {
      expect((await request(app).get("/me").set("Authorization", header)).body).toEqual({ user: null });
    }
  });

  test("a token expires with maxAge on the server, however often the client replays it", async () => {
    let now = Date.UTC(2030, 0, 1);
    const app = tokenApp(createStorage(testCookie({ maxAge: 60 }), () => now));
    const token = tokenOf(await request(app).post("/login"))!;
    now += 61_000;
    expect((await request(app).get("/me").set("Authorization", bearer(token))).body).toEqual({ user: null });
  });

  test("renewal sends a new token once less than half the lifetime is left", async () => {
    let now = Date.UTC(2030, 0, 1);
    const app = tokenApp(createStorage(testCookie({ maxAge: 60 }), () => now));
    const token = tokenOf(await request(app).post("/login"))!;
    now += 31_000;
    const renewed = await request(app).get("/me").set("Authorization", bearer(token));
    const newToken = tokenOf(renewed)!;
    expect(newToken).toBeDefined();
    now += 50_000; // past the first token's expiry, inside the renewed one's
    expect((await request(app).get("/me").set("Authorization", bearer(newToken))).body).toEqual({ user: "ada" });
  });

  test("logout answers an empty token (the client's token is over)" + (revocable ? ", and the old token no longer works" : ""), async () => {
    const app = tokenApp(createStorage(testCookie()));
    const token = tokenOf(await request(app).post("/login"))!;
    const logout = await request(app).post("/logout").set("Authorization", bearer(token));
    expect(tokenOf(logout)).toBe("");
    if (revocable) expect((await request(app).get("/me").set("Authorization", bearer(token))).body).toEqual({ user: null });
  });

  test("login with regenerate() gives a new token; the anonymous one stops working" + (revocable ? "" : " only when it expires"), async () => {
    const app = tokenApp(createStorage(testCookie()));
    const anonymous = tokenOf(await request(app).post("/count"))!;
    const login = await request(app).post("/login").set("Authorization", bearer(anonymous));
    const loggedIn = tokenOf(login)!;
    expect(loggedIn).not.toBe(anonymous);
    expect((await request(app).post("/count").set("Authorization", bearer(loggedIn))).body).toEqual({ count: 2 });
    if (revocable) expect((await request(app).post("/count").set("Authorization", bearer(anonymous))).body).toEqual({ count: 1 });
  });
});

// Rotation needs the session in the token itself: a memory storage's sessions live in one app's memory.
test("a token sealed under a rotated secret is read, and a token under the new secret comes back", async () => {
  const before = tokenApp(createCookieSessionStorage({ cookie: testCookie({ secret: testSecret }) }));
  const token = tokenOf(await request(before).post("/login"))!;
  const after = tokenApp(createCookieSessionStorage({ cookie: testCookie({ secret: [otherSecret, testSecret] }) }));
  const me = await request(after).get("/me").set("Authorization", bearer(token));
  expect(me.body).toEqual({ user: "ada" });
  const resealed = tokenOf(me)!;
  expect(resealed).not.toBe(token);
  const onlyNew = tokenApp(createCookieSessionStorage({ cookie: testCookie({ secret: otherSecret }) }));
  expect((await request(onlyNew).get("/me").set("Authorization", bearer(resealed))).body).toEqual({ user: "ada" });
});

describe("browsers and token clients on one app", () => {
  test("cookies on the site, bearer tokens under /api, one storage: each client is known its own way", async () => {
    const storage = createMemorySessionStorage({ cookie: testCookie() });
    const app = express();
    const api = express.Router();
    api.use(sessions({ storage, headerName: "authorization", responseHeaderName: tokenHeader }));
    apiRoutes(api);
    app.use("/api", api);
    const site = express.Router();
    site.use(sessions({ storage }));
    apiRoutes(site);
    app.use(site);

    const browserLogin = await request(app).post("/login");
    expect(tokenOf(browserLogin)).toBeUndefined();
    const cookie = cookiePair(browserLogin);
    const appLogin = await request(app).post("/api/login");
    expect(setCookies(appLogin)).toEqual([]);
    const token = tokenOf(appLogin)!;

    expect((await request(app).post("/count").set("Cookie", cookie)).body).toEqual({ count: 1 });
    expect((await request(app).post("/api/count").set("Authorization", bearer(token))).body).toEqual({ count: 1 });
    // Each transport reads only its own credential.
    expect((await request(app).get("/api/me").set("Cookie", cookie)).body).toEqual({ user: null });
    expect((await request(app).get("/me").set("Authorization", bearer(token))).body).toEqual({ user: null });
  });
});
