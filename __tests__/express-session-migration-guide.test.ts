// The move step of docs/migrating-from-express-session.md, over real HTTP: a user logged in
// with express-session is moved to our session on their next request (values copied, a new
// identity, the old session destroyed in its store and its cookie cleared), and from then on
// our cookie alone carries the login. (Side by side without moving: express-session-migration.test.ts.)
import { describe, expect, test } from "@jest/globals";
import express, { type Request, type RequestHandler } from "express";
import { createRequire } from "node:module";
import request from "supertest";
import { createMemorySessionStorage, sessions } from "../lib/index.js";
import { cookiePair, setCookieFor, testCookie } from "./fixtures.js";

// Loaded untyped: @types/express-session in this program would retype req.session in every test.
const require = createRequire(import.meta.url);
const expressSession = require("express-session") as ((options: object) => RequestHandler) & { MemoryStore: new () => object };
type OldSession = { user?: { name: string }; destroy(done: (error?: unknown) => void): void };
type User = { name: string };

function migratingApp() {
  const oldStore = new expressSession.MemoryStore();
  const app = express();
  app.use(expressSession({ name: "connect.sid", secret: "the old secret", store: oldStore, resave: false, saveUninitialized: false }));
  const session = sessions<{ user: User }>({ storage: createMemorySessionStorage({ cookie: testCookie() }) });
  app.use(session);
  const oldSession = (req: Request) => req.session as unknown as OldSession;

  // The move: once per user, on whichever request comes first.
  app.use((req, res, next) => {
    const old = oldSession(req);
    if (!old.user || session.sessionOf(req).has("user")) return next();
    session.sessionOf(req).regenerate();
    session.sessionOf(req).set("user", old.user);
    res.clearCookie("connect.sid"); // express-session's destroy() forgets the session but leaves its cookie
    old.destroy(next);
  });

  app.post("/old/login", (req, res) => {
    oldSession(req).user = { name: "Ada" };
    res.redirect("/");
  });
  app.get("/", (req, res) => res.json({ user: session.sessionOf(req).get("user") ?? null }));
  return { app, oldStore };
}

describe("moving express-session users over, as the guide's step 3 does", () => {
  test("the next request copies the user into our session, destroys the old one and clears its cookie", async () => {
    const { app, oldStore } = migratingApp();
    const oldCookie = cookiePair(await request(app).post("/old/login"), "connect.sid");

    const moved = await request(app).get("/").set("Cookie", oldCookie);
    expect(moved.body).toEqual({ user: { name: "Ada" } });
    expect(setCookieFor(moved, "connect.sid")).toMatch(/^connect\.sid=;.*Expires=Thu, 01 Jan 1970/);
    const count = await new Promise((resolve) => (oldStore as { length(done: (e: unknown, n: number) => void): void }).length((_e, n) => resolve(n)));
    expect(count).toBe(0);

    const ours = cookiePair(moved);
    expect((await request(app).get("/").set("Cookie", ours)).body).toEqual({ user: { name: "Ada" } });
    // A copy of the old cookie no longer logs anyone in: its session is gone from the old store.
    expect((await request(app).get("/").set("Cookie", oldCookie)).body).toEqual({ user: null });
  });
});
