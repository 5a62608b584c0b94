import { describe, expect, test } from "@jest/globals";
import request from "supertest";
import { appWithSessions, cookiePair, setCookieFor } from "./fixtures.js";

describe("the contract's first example", () => {
  test("a flash set before a redirect is shown once after it", async () => {
    const app = appWithSessions((app) => {
      app.post("/login", (req, res) => {
        req.session.set("user", { id: 1 });
        req.session.flash("message", "Welcome back");
        res.redirect("/");
      });
      app.get("/", (req, res) => res.send(String(req.session.get("message") ?? "")));
    });
    const login = await request(app).post("/login");
    expect(login.status).toBe(302);
    const shown = await request(app).get("/").set("Cookie", cookiePair(login));
    expect(shown.text).toBe("Welcome back");
    const again = await request(app).get("/").set("Cookie", cookiePair(shown));
    expect(again.text).toBe("");
    expect(setCookieFor(again)).toBeUndefined();
  });
});

describe("Remastered's sessions-page snippet, with only the import path changed", () => {
  test("getSessionStore(CookieSessionStorage({ cookie })) returns a per-request session", async () => {
    const { CookieSessionStorage, getSessionStore } = await import("../lib/index.js");
    const getSession = getSessionStore(
      CookieSessionStorage({
        cookie: {
          name: "session-cookie-name",
          secret: "a secret to encrypt the session contents",
        },
      }),
    );
    const request = new Request("http://localhost/");
    const session = await getSession(request);
    session.set("theme", "dark");
    const header = await session.commit();
    expect(header).toMatch(/^session-cookie-name=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+;/);
    const next = await getSession(new Request("http://localhost/", { headers: { cookie: header.split(";")[0]! } }));
    expect(next.get("theme")).toBe("dark");
  });
});
