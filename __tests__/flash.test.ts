import { describe, expect, test } from "@jest/globals";
import type { Express } from "express";
import request from "supertest";
import { appWithSessions, cookiePair, setCookieFor } from "./fixtures.js";

/** A small app: /flash sets a message and redirects, / shows it, /image and /poll never read it. */
function flashApp(extraRoutes: (app: Express) => void = () => {}) {
  return appWithSessions((app) => {
    app.post("/flash", (req, res) => {
      req.session.flash("message", String(req.query.text ?? "Saved"));
      res.redirect("/");
    });
    app.get("/", (req, res) => res.json({ message: req.session.get("message") ?? null }));
    app.get("/image", (_req, res) => res.type("png").send(Buffer.from([0x89, 0x50])));
    app.get("/poll", (req, res) => res.json({ hasMessage: req.session.has("message") }));
    extraRoutes(app);
  });
}

describe("flash messages", () => {
  test("a flash set before a redirect is shown on the page it leads to, then never again", async () => {
    const app = flashApp();
    const flashed = await request(app).post("/flash?text=Welcome");
    const page = await request(app).get("/").set("Cookie", cookiePair(flashed));
    expect(page.body).toEqual({ message: "Welcome" });
    // Reading it emitted a cookie without it: reloading shows nothing.
    const reload = await request(app).get("/").set("Cookie", cookiePair(page));
    expect(reload.body).toEqual({ message: null });
  });

  test("the old cookie replayed still holds the flash: dropping it is the new cookie's job", async () => {
    const app = flashApp();
    const flashed = await request(app).post("/flash");
    await request(app).get("/").set("Cookie", cookiePair(flashed));
    const replay = await request(app).get("/").set("Cookie", cookiePair(flashed));
    expect(replay.body).toEqual({ message: "Saved" });
  });

  test("requests that do not read the flash (an image, a poll with has()) leave it in place and send no cookie", async () => {
    const app = flashApp();
    const flashed = await request(app).post("/flash");
    const cookie = cookiePair(flashed);
    const image = await request(app).get("/image").set("Cookie", cookie);
    const poll = await request(app).get("/poll").set("Cookie", cookie);
    expect(poll.body).toEqual({ hasMessage: true });
    expect(setCookieFor(image)).toBeUndefined();
    expect(setCookieFor(poll)).toBeUndefined();
    const page = await request(app).get("/").set("Cookie", cookie);
    expect(page.body).toEqual({ message: "Saved" });
  });

  test("within the request that set it, a flash can be read without consuming it", async () => {
    const app = flashApp((app) => {
      app.post("/flash-and-read", (req, res) => {
        req.session.flash("message", "Hello");
        res.json({ sameRequest: req.session.get("message") });
      });
    });
    const first = await request(app).post("/flash-and-read");
    expect(first.body).toEqual({ sameRequest: "Hello" });
    const next = await request(app).get("/").set("Cookie", cookiePair(first));
    expect(next.body).toEqual({ message: "Hello" });
  });

  test("a flash read twice in one request returns the value both times", async () => {
    const app = flashApp((app) => {
      app.get("/twice", (req, res) => res.json([req.session.get("message"), req.session.get("message")]));
    });
    const flashed = await request(app).post("/flash");
    const page = await request(app).get("/twice").set("Cookie", cookiePair(flashed));
    expect(page.body).toEqual(["Saved", "Saved"]);
  });

  test("set() on a flashed key makes it an ordinary, lasting value", async () => {
    const app = flashApp((app) => {
      app.post("/keep", (req, res) => {
        req.session.set("message", "Kept");
        res.sendStatus(204);
      });
    });
    const flashed = await request(app).post("/flash");
    const kept = await request(app).post("/keep").set("Cookie", cookiePair(flashed));
    const first = await request(app).get("/").set("Cookie", cookiePair(kept));
    expect(first.body).toEqual({ message: "Kept" });
    expect(setCookieFor(first)).toBeUndefined(); // nothing to drop
    const second = await request(app).get("/").set("Cookie", cookiePair(kept));
    expect(second.body).toEqual({ message: "Kept" });
  });

  test("unset() removes a flash before anyone reads it", async () => {
    const app = flashApp((app) => {
      app.post("/dismiss", (req, res) => {
        req.session.unset("message");
        res.sendStatus(204);
      });
    });
    const flashed = await request(app).post("/flash");
    const dismissed = await request(app).post("/dismiss").set("Cookie", cookiePair(flashed));
    const page = await request(app).get("/").set("Cookie", cookiePair(dismissed));
    expect(page.body).toEqual({ message: null });
  });

  test("reading one of two flashes leaves the other for a later request", async () => {
    const app = flashApp((app) => {
      app.post("/two", (req, res) => {
        req.session.flash("message", "One");
        req.session.flash("warning", "Two");
        res.sendStatus(204);
      });
      app.get("/warning", (req, res) => res.json({ warning: req.session.get("warning") ?? null }));
    });
    const flashed = await request(app).post("/two");
    const page = await request(app).get("/").set("Cookie", cookiePair(flashed));
    expect(page.body).toEqual({ message: "One" });
    const warning = await request(app).get("/warning").set("Cookie", cookiePair(page));
    expect(warning.body).toEqual({ warning: "Two" });
    const again = await request(app).get("/warning").set("Cookie", cookiePair(warning));
    expect(again.body).toEqual({ warning: null });
  });

  test("a flash read and flashed again in one request is shown once more", async () => {
    const app = flashApp((app) => {
      app.get("/reflash", (req, res) => {
        const previous = req.session.get("message");
        req.session.flash("message", `${previous} again`);
        res.json({ previous });
      });
    });
    const flashed = await request(app).post("/flash");
    const reflash = await request(app).get("/reflash").set("Cookie", cookiePair(flashed));
    expect(reflash.body).toEqual({ previous: "Saved" });
    const page = await request(app).get("/").set("Cookie", cookiePair(reflash));
    expect(page.body).toEqual({ message: "Saved again" });
  });

  test("lasting values survive the request that consumes a flash", async () => {
    const app = flashApp((app) => {
      app.post("/login", (req, res) => {
        req.session.set("user", "ada");
        req.session.flash("message", "Welcome back");
        res.redirect("/");
      });
      app.get("/user", (req, res) => res.json({ user: req.session.get("user") ?? null }));
    });
    const login = await request(app).post("/login");
    const page = await request(app).get("/").set("Cookie", cookiePair(login));
    const user = await request(app).get("/user").set("Cookie", cookiePair(page));
    expect(user.body).toEqual({ user: "ada" });
  });
});
