// What docs/migrating-from-cookie-session.md promises, over real HTTP: both middlewares on one
// app, cookie-session mounted first. Its req.session stays its own, ours is
// middleware.sessionOf(req); a user's old session moves over on their next request, and the
// old cookie is deleted on that response. (The guide's TypeScript set-up is checked in
// __tests__/typescript-consumers/cookie-session-migration.)
import { describe, expect, test } from "@jest/globals";
import express, { type RequestHandler } from "express";
import { createRequire } from "node:module";
import request from "supertest";
import { createMemorySessionStorage, sessions } from "../lib/index.js";
import { cookiePair, setCookieFor, testCookie } from "./fixtures.js";

// Loaded untyped: @types/cookie-session in this program would retype req.session in every test (see the guide).
const cookieSession = createRequire(import.meta.url)("cookie-session") as (options: object) => RequestHandler;
type OldSession = { user?: { name: string }; views?: number } | null;
type User = { name: string };

/** The app of the guide's step 2 (and 3): both middlewares, old routes, new routes, and the move. */
function migratingApp() {
  const app = express();
  app.use(cookieSession({ name: "session", keys: ["the old key"], sameSite: "lax" })); // 1. unchanged, first
  const session = sessions<{ user: User; visits: number }, { message: string }>({
    storage: createMemorySessionStorage({ cookie: testCookie() }), // its own cookie name: "sid"
  });
  app.use(session);
  const oldSession = (req: express.Request) => req.session as unknown as OldSession;

  // 3. A user arriving with an old session is moved over once: its values into ours, the old cookie deleted.
  app.use((req, _res, next) => {
    const old = oldSession(req);
    if (old?.user && !session.sessionOf(req).has("user")) {
      session.sessionOf(req).regenerate();
      session.sessionOf(req).set("user", old.user);
      (req as unknown as { session: OldSession }).session = null; // cookie-session's way to delete its cookie
    }
    next();
  });

  app.post("/old/login", (req, res) => {
    (req as unknown as { session: OldSession }).session = { user: { name: "Ada" } };
    res.redirect("/old");
  });
  app.get("/old", (req, res) => {
    const old = oldSession(req);
    if (old) old.views = (old.views ?? 0) + 1;
    res.json({ views: old?.views ?? null });
  });
  app.get("/new", (req, res) => {
    const current = session.sessionOf(req);
    const visits = (current.get("visits") ?? 0) + 1;
    current.set("visits", visits);
    res.json({ user: current.get("user") ?? null, visits, message: current.get("message") ?? null });
  });
  app.post("/new/logout", (req, res) => {
    session.sessionOf(req).destroy();
    session.sessionOf(req).flash("message", "Signed out");
    res.redirect("/new");
  });
  return app;
}

describe("a migration from cookie-session, with cookie-session mounted first", () => {
  test("old routes keep cookie-session's req.session, new ones use sessionOf(req), and each keeps its own cookie", async () => {
    const app = migratingApp();
    const old = await request(app).get("/old");
    expect(old.body).toEqual({ views: 1 });
    const oldCookies = `${cookiePair(old, "session")}; ${cookiePair(old, "session.sig")}`;

    const fresh = await request(app).get("/new").set("Cookie", oldCookies);
    expect(fresh.body).toEqual({ user: null, visits: 1, message: null });
    expect(setCookieFor(fresh, "session")).toBeUndefined(); // cookie-session's cookie is left alone
    const both = `${oldCookies}; ${cookiePair(fresh)}`;

    expect((await request(app).get("/old").set("Cookie", both)).body).toEqual({ views: 2 });
    expect((await request(app).get("/new").set("Cookie", both)).body).toMatchObject({ visits: 2 });
  });

  test("a request that does not touch either session gets no cookie from either", async () => {
    const app = migratingApp();
    app.get("/health", (_req, res) => res.send("ok"));
    const health = await request(app).get("/health");
    expect(health.headers["set-cookie"]).toBeUndefined();
  });

  test("a user logged in with cookie-session is moved over on the next request: our cookie set, theirs deleted", async () => {
    const app = migratingApp();
    const login = await request(app).post("/old/login");
    const oldCookies = `${cookiePair(login, "session")}; ${cookiePair(login, "session.sig")}`;

    const moved = await request(app).get("/new").set("Cookie", oldCookies);
    expect(moved.body).toMatchObject({ user: { name: "Ada" } });
    expect(setCookieFor(moved, "session")).toMatch(/^session=;.*expires=Thu, 01 Jan 1970/i);
    const ours = cookiePair(moved);

    // From now on our cookie alone carries the login; the old cookie reads as no session.
    expect((await request(app).get("/new").set("Cookie", ours)).body).toMatchObject({ user: { name: "Ada" }, visits: 2 });
    expect((await request(app).get("/old")).body).toEqual({ views: 1 });
  });

  test("logout on the new side ends our session and shows a flash once", async () => {
    const app = migratingApp();
    const login = await request(app).post("/old/login");
    const moved = await request(app).get("/new").set("Cookie", `${cookiePair(login, "session")}; ${cookiePair(login, "session.sig")}`);
    const ours = cookiePair(moved);

    const logout = await request(app).post("/new/logout").set("Cookie", ours);
    const afterLogout = cookiePair(logout);
    expect((await request(app).get("/new").set("Cookie", afterLogout)).body).toEqual({ user: null, visits: 1, message: "Signed out" });
    // The cookie copied before the logout no longer reads the session (a server-side storage revokes it).
    expect((await request(app).get("/new").set("Cookie", ours)).body).toMatchObject({ user: null });
  });
});
