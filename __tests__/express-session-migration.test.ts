// Moving from express-session one route at a time: both middlewares on one app, express-session
// mounted first. Its req.session stays its own; ours is middleware.sessionOf(req). (The types of
// that setup are checked in __tests__/typescript-consumers/express-session-migration.)
import { describe, expect, test } from "@jest/globals";
import express, { type RequestHandler } from "express";
import { createRequire } from "node:module";
import request from "supertest";
import { createMemorySessionStorage, sessions } from "../lib/index.js";
import { cookiePair, setCookieFor, testCookie } from "./fixtures.js";

// Loaded untyped: @types/express-session in this program would retype req.session in every test.
const expressSession = createRequire(import.meta.url)("express-session") as (options: object) => RequestHandler;
type OldSession = { views?: number };

function migratingApp() {
  const app = express();
  app.use(expressSession({ name: "connect.sid", secret: "the old secret", resave: false, saveUninitialized: false }));
  const session = sessions<{ visits: number }>({ storage: createMemorySessionStorage({ cookie: testCookie() }) });
  app.use(session);
  app.get("/old", (req, res) => {
    const old = req.session as unknown as OldSession;
    old.views = (old.views ?? 0) + 1;
    res.json({ views: old.views });
  });
  app.get("/new", (req, res) => {
    const visits = (session.sessionOf(req).get("visits") ?? 0) + 1;
    session.sessionOf(req).set("visits", visits);
    res.json({ visits });
  });
  return app;
}

describe("a migration from express-session, with express-session mounted first", () => {
  test("old routes keep express-session's req.session, new ones use sessionOf(req), and both sessions persist", async () => {
    const app = migratingApp();
    const old = await request(app).get("/old");
    const oldCookie = cookiePair(old, "connect.sid");
    const fresh = await request(app).get("/new").set("Cookie", oldCookie);
    const newCookie = cookiePair(fresh);
    expect(setCookieFor(fresh, "connect.sid")).toBeUndefined();

    const both = `${oldCookie}; ${newCookie}`;
    expect((await request(app).get("/old").set("Cookie", both)).body).toEqual({ views: 2 });
    expect((await request(app).get("/new").set("Cookie", both)).body).toEqual({ visits: 2 });
  });
});
