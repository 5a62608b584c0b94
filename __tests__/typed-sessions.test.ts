import { describe, expect, test } from "@jest/globals";
import express from "express";
import request from "supertest";
import { sessions, SessionNotLoadedError } from "../lib/index.js";
import { cookiePair, cookieStorage } from "./fixtures.js";

type User = { id: number; name: string };

describe("typed session keys without declaration merging", () => {
  test("sessions<Data, Flash>() types get, set and flash, and sessionOf(req) returns that session", async () => {
    const session = sessions<{ user: User; visits: number }, { message: string }>({ storage: cookieStorage() });
    const app = express();
    app.use(session);
    app.post("/login", (req, res) => {
      const typed = session.sessionOf(req);
      typed.set("user", { id: 1, name: "Ada" });
      typed.set("visits", 1);
      typed.flash("message", "Welcome back");
      // Checked by the compiler only, never run:
      const rejectedByTheCompiler = () => {
        // @ts-expect-error: "visits" holds a number
        typed.set("visits", "one");
        // @ts-expect-error: "nope" is neither a data nor a flash key
        typed.set("nope", 1);
        // @ts-expect-error: flash values are strings
        typed.flash("message", 42);
      };
      void rejectedByTheCompiler;
      res.redirect("/");
    });
    app.get("/", (req, res) => {
      const typed = session.sessionOf(req);
      const user: User | undefined = typed.get("user");
      const message: string | undefined = typed.get("message");
      // @ts-expect-error: a number is not a User
      const wrong: number | undefined = typed.get("user");
      void wrong;
      res.json({ name: user?.name ?? null, message: message ?? null, sameObject: typed === req.session });
    });

    const login = await request(app).post("/login");
    const page = await request(app).get("/").set("Cookie", cookiePair(login));
    expect(page.body).toEqual({ name: "Ada", message: "Welcome back", sameObject: true });
  });

  test("Remastered's untyped use keeps working through req.session", async () => {
    const app = express();
    app.use(sessions({ storage: cookieStorage() }));
    app.get("/", (req, res) => {
      const count = (req.session.get("count") ?? 0) + 1;
      req.session.set("count", count);
      res.json({ count });
    });
    const first = await request(app).get("/");
    const second = await request(app).get("/").set("Cookie", cookiePair(first));
    expect(second.body).toEqual({ count: 2 });
  });

  test("sessionOf() on a request the middleware never saw says how to mount it", async () => {
    const session = sessions({ storage: cookieStorage() });
    const app = express();
    app.get("/", (req, res) => {
      try {
        session.sessionOf(req);
        res.send("no error");
      } catch (error) {
        res.status(500).json({ isTyped: error instanceof SessionNotLoadedError, message: (error as Error).message });
      }
    });
    const response = await request(app).get("/");
    expect(response.body.isTyped).toBe(true);
    expect(response.body.message).toMatch(/app\.use\(sessions\(\{ storage \}\)\)/);
  });
});

describe("typed keys declared as an interface", () => {
  interface AppSession {
    user: User;
  }
  interface AppFlash {
    message: string;
  }

  test("sessions<Interface, Interface>() compiles and types get", async () => {
    const session = sessions<AppSession, AppFlash>({ storage: cookieStorage() });
    const app = express();
    app.use(session);
    app.get("/", (req, res) => {
      session.sessionOf(req).set("user", { id: 2, name: "Grace" });
      const user: User | undefined = session.sessionOf(req).get("user");
      res.json({ name: user?.name });
    });
    const response = await request(app).get("/");
    expect(response.body).toEqual({ name: "Grace" });
  });
});
