// The middleware outside the plain Express path: Connect, node:http, cookie-parser, token
// headers, and Remastered's createSessionStore / intoSessionStore without any middleware.
import { describe, expect, test } from "@jest/globals";
import connect from "connect";
import cookieParser from "cookie-parser";
import express, { type Express } from "express";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import request from "supertest";
import {
  createSessionStore,
  getSessionStore,
  intoSessionStore,
  sessions,
  type Serializable,
  type SessionStorage,
  type StoredSession,
} from "../lib/index.js";
import { appWithSessions, cookiePair, cookieStorage, setCookieFor, setCookies, slowStorage, testSecret } from "./fixtures.js";

const noHang = 5_000;

describe("on Connect", () => {
  function connectApp(storage: SessionStorage<Serializable, unknown> = slowStorage(cookieStorage(), 100)) {
    const session = sessions<{ user: string }>({ storage });
    const app = connect();
    app.use(session);
    app.use((req: IncomingMessage, res: ServerResponse) => {
      if (req.method === "POST" && req.url === "/login") {
        session.sessionOf(req).set("user", "ada");
        res.statusCode = 302;
        res.setHeader("Location", "/");
        res.end();
        return;
      }
      res.setHeader("Content-Type", "text/plain");
      res.end(`hello ${session.sessionOf(req).get("user") ?? "stranger"}`);
    });
    return app;
  }

  test("a login that redirects carries the session cookie, and the next request reads the session", async () => {
    const app = connectApp();
    const login = await request(app).post("/login");
    expect(login.status).toBe(302);
    expect(setCookieFor(login)).toBeDefined();

    const home = await request(app).get("/").set("Cookie", cookiePair(login));
    expect(home.text).toBe("hello ada");
    expect(setCookies(home)).toEqual([]);
  });

  test("req.session is the same session that sessionOf(req) returns", async () => {
    const session = sessions({ storage: cookieStorage() });
    const app = connect();
    app.use(session);
    app.use((req: IncomingMessage, res: ServerResponse) => {
      res.end(String((req as IncomingMessage & { session?: unknown }).session === session.sessionOf(req)));
    });
    const res = await request(app).get("/");
    expect(res.text).toBe("true");
  });

  test(
    "a storage error reaches Connect's final handler, which answers 500",
    async () => {
      const inner = cookieStorage();
      const app = connectApp({
        fromHeader: (header) => inner.fromHeader(header),
        toHeader: async () => {
          throw new Error("the session could not be saved");
        },
      });
      const res = await request(app).post("/login");
      expect(res.status).toBe(500);
      expect(res.headers.location).toBeUndefined();
    },
    noHang,
  );
});

describe("on plain node:http, as sessions(options)(req, res, next)", () => {
  // The contract: next() is called once to run the route, and once more with the error if the
  // session cannot be saved after the route answered. The route must run only for the first.
  function nodeHandler(storage: SessionStorage<Serializable, unknown>, errors: unknown[] = [], routeRuns = { count: 0 }) {
    const session = sessions<{ visits: number }>({ storage });
    return (req: IncomingMessage, res: ServerResponse) => {
      session(req, res, (error?: unknown) => {
        if (error) {
          errors.push(error);
          if (res.headersSent) return void res.destroy();
          res.statusCode = 500;
          res.end(`failed: ${(error as Error).message}`);
          return;
        }
        routeRuns.count++;
        const visits = (session.sessionOf(req).get("visits") ?? 0) + 1;
        session.sessionOf(req).set("visits", visits);
        res.setHeader("Content-Type", "text/plain");
        res.end(`visit ${visits}`);
      });
    };
  }

  test("a visit counter counts across requests, with the cookie on every response", async () => {
    const handler = nodeHandler(slowStorage(cookieStorage(), 100));
    const first = await request(handler).get("/");
    expect(first.text).toBe("visit 1");
    const second = await request(handler).get("/").set("Cookie", cookiePair(first));
    expect(second.text).toBe("visit 2");
    expect(setCookieFor(second)).toBeDefined();
  });

  test(
    "a failed commit after res.end calls next(err), and the 500 the callback writes is what the client gets",
    async () => {
      const inner = cookieStorage();
      const errors: unknown[] = [];
      const routeRuns = { count: 0 };
      const handler = nodeHandler(
        {
          fromHeader: (header) => inner.fromHeader(header),
          toHeader: async () => {
            throw new Error("the session could not be saved");
          },
        },
        errors,
        routeRuns,
      );
      const res = await request(handler).get("/");
      expect(res.status).toBe(500);
      expect(res.text).toBe("failed: the session could not be saved");
      expect(errors).toHaveLength(1);
      expect(routeRuns.count).toBe(1);
    },
    noHang,
  );
});

describe("alongside cookie-parser", () => {
  const variants: [string, string | undefined, "before" | "after"][] = [
    ["without a secret, mounted before ours", undefined, "before"],
    ["without a secret, mounted after ours", undefined, "after"],
    ["with a signing secret, mounted before ours", "cookie-parser-secret", "before"],
    ["with a signing secret, mounted after ours", "cookie-parser-secret", "after"],
  ];

  test.each(variants)("%s: both cookies are set, and both read back on the next request", async (_name, secret, order) => {
    const app: Express = express();
    const parser = secret === undefined ? cookieParser() : cookieParser(secret);
    if (order === "before") app.use(parser);
    app.use(sessions({ storage: slowStorage(cookieStorage(), 100) }));
    if (order === "after") app.use(parser);
    app.post("/preferences", (req, res) => {
      req.session.set("user", "ada");
      res.cookie("theme", "dark", { signed: secret !== undefined });
      res.send("saved");
    });
    app.get("/", (req, res) => {
      const cookies = secret === undefined ? req.cookies : req.signedCookies;
      res.json({ theme: cookies.theme ?? null, user: req.session.get("user") ?? null, other: req.cookies.lang ?? null });
    });

    const saved = await request(app).post("/preferences");
    expect(setCookies(saved)).toEqual([expect.stringMatching(/^theme=/), expect.stringMatching(/^sid=/)]);

    const cookieHeader = [cookiePair(saved, "theme"), "lang=fr", cookiePair(saved)].join("; ");
    const read = await request(app).get("/").set("Cookie", cookieHeader);
    expect(read.body).toEqual({ theme: "dark", user: "ada", other: "fr" });
    expect(setCookies(read)).toEqual([]);
  });

  test("a cookie-parser secret that equals the session secret does not confuse either", async () => {
    const app = express();
    app.use(cookieParser(testSecret));
    app.use(sessions({ storage: cookieStorage() }));
    app.get("/set", (req, res) => {
      req.session.set("user", "ada");
      res.cookie("sid-hint", "1", { signed: true });
      res.send("ok");
    });
    app.get("/", (req, res) => res.json({ user: req.session.get("user") ?? null, hint: req.signedCookies["sid-hint"] ?? null }));
    const set = await request(app).get("/set");
    const read = await request(app)
      .get("/")
      .set("Cookie", `${cookiePair(set, "sid-hint")}; ${cookiePair(set)}`);
    expect(read.body).toEqual({ user: "ada", hint: "1" });
  });
});

/**
 * A do-it-yourself token storage written against exactly Remastered's interface: the
 * session lives in a Map, the client holds an opaque token in the Authorization header.
 */
function bearerTokenStorage() {
  const saved = new Map<string, { content: [string, Serializable][]; flashedKeys: string[] }>();
  const receivedHeaders: (string | undefined)[] = [];
  const storage: SessionStorage<Serializable, string> = {
    async fromHeader(header?: string) {
      receivedHeaders.push(header);
      const token = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
      const record = token === undefined ? undefined : saved.get(token);
      const session: StoredSession<Serializable> = {
        content: new Map(record?.content ?? []),
        flashedKeys: new Set(record?.flashedKeys ?? []),
      };
      return [session, record && token ? token : randomUUID()];
    },
    async toHeader(session: StoredSession<Serializable>, token: string) {
      saved.set(token, { content: [...session.content], flashedKeys: [...session.flashedKeys] });
      return token;
    },
  };
  return { storage, receivedHeaders, saved };
}

describe("a token-based client: headerName and responseHeaderName", () => {
  function tokenApp(storage: SessionStorage<Serializable, string>, headerName = "authorization"): Express {
    return appWithSessions(
      (app) => {
        app.post("/login", (req, res) => {
          req.session.set("user", "ada");
          req.session.flash("message", "Welcome back");
          res.status(201).json({ ok: true });
        });
        app.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null, message: req.session.get("message") ?? null }));
      },
      { storage, headerName, responseHeaderName: "x-session-token" },
    );
  }

  test("the committed token comes back in X-Session-Token, not as a cookie, and the storage receives the Authorization header", async () => {
    const { storage, receivedHeaders } = bearerTokenStorage();
    const app = tokenApp(storage);
    const login = await request(app).post("/login");
    expect(login.status).toBe(201);
    const token = login.headers["x-session-token"] as string;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(setCookies(login)).toEqual([]);

    const me = await request(app).get("/me").set("Authorization", `Bearer ${token}`).set("Cookie", "sid=ignored");
    expect(me.body).toEqual({ user: "ada", message: "Welcome back" });
    expect(receivedHeaders).toEqual([undefined, `Bearer ${token}`]);
    // Reading the flash must be persisted: the token is sent again.
    expect(me.headers["x-session-token"]).toBe(token);

    const again = await request(app).get("/me").set("Authorization", `Bearer ${token}`);
    expect(again.body).toEqual({ user: "ada", message: null });
    expect(again.headers["x-session-token"]).toBeUndefined();
  });

  test("the header name may be written as HTTP spells it, Authorization", async () => {
    const { storage, receivedHeaders } = bearerTokenStorage();
    const app = tokenApp(storage, "Authorization");
    await request(app).get("/me").set("Authorization", "Bearer not-a-known-token");
    expect(receivedHeaders).toEqual(["Bearer not-a-known-token"]);
  });
});

describe("createSessionStore without the middleware", () => {
  test("with Node requests: one session per request object, the same promise on every call", async () => {
    const getSession = createSessionStore(cookieStorage());
    const sameWithinRequest: boolean[] = [];
    const handler = async (req: IncomingMessage, res: ServerResponse) => {
      const first = getSession(req);
      const second = getSession(req);
      sameWithinRequest.push(first === second);
      const session = await first;
      const visits = ((session.get("visits") as number | undefined) ?? 0) + 1;
      session.set("visits", visits);
      res.setHeader("Set-Cookie", await session.commit());
      res.end(`visit ${visits}`);
    };
    const first = await request(handler).get("/");
    const second = await request(handler).get("/").set("Cookie", cookiePair(first));
    expect(second.text).toBe("visit 2");
    expect(sameWithinRequest).toEqual([true, true]);
  });

  test("with Fetch API Requests: reads the Cookie header through headers.get, memoised per Request", async () => {
    const getSession = createSessionStore(cookieStorage());
    const handle = async (incoming: globalThis.Request): Promise<globalThis.Response> => {
      const session = await getSession(incoming);
      const visits = ((session.get("visits") as number | undefined) ?? 0) + 1;
      session.set("visits", visits);
      const response = new Response(`visit ${visits}`);
      response.headers.append("Set-Cookie", await session.commit());
      return response;
    };
    const first = await handle(new Request("http://127.0.0.1/"));
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    const secondRequest = new Request("http://127.0.0.1/", { headers: { Cookie: `lang=fr; ${cookie}` } });
    const second = await handle(secondRequest);
    expect(await second.text()).toBe("visit 2");

    expect(getSession(secondRequest)).toBe(getSession(secondRequest));
    const otherRequest = new Request("http://127.0.0.1/", { headers: { Cookie: cookie } });
    expect(getSession(otherRequest)).not.toBe(getSession(secondRequest));
    expect((await getSession(otherRequest)).get("visits")).toBe(1);
  });

  test("with another header name, e.g. a Fetch Request's Authorization header", async () => {
    const { storage, receivedHeaders } = bearerTokenStorage();
    const getSession = createSessionStore(storage, "authorization");
    const login = await getSession(new Request("http://127.0.0.1/login", { method: "POST" }));
    login.set("user", "ada");
    const token = await login.commit();

    const me = await getSession(new Request("http://127.0.0.1/me", { headers: { Authorization: `Bearer ${token}` } }));
    expect(me.get("user")).toBe("ada");
    expect(receivedHeaders).toEqual([undefined, `Bearer ${token}`]);
  });

  test("getSessionStore is the same function, under Remastered's other name", async () => {
    expect(getSessionStore).toBe(createSessionStore);
    const getSession = getSessionStore(cookieStorage());
    const session = await getSession(new Request("http://127.0.0.1/"));
    expect(session.has("anything")).toBe(false);
  });
});

describe("intoSessionStore(storage, header)", () => {
  test("opens the session a raw Cookie header carries, and commits it back to a Set-Cookie value", async () => {
    const storage = cookieStorage();
    const fresh = await intoSessionStore(storage);
    expect(fresh.has("user")).toBe(false);
    fresh.set("user", { id: 1 });
    const setCookie = await fresh.commit();
    expect(setCookie).toMatch(/^sid=[^;]+; /);

    const reopened = await intoSessionStore(storage, `theme=dark; ${setCookie.split(";")[0]}`);
    expect(reopened.get("user")).toEqual({ id: 1 });
  });

  test("works with a do-it-yourself storage and its own header format", async () => {
    const { storage } = bearerTokenStorage();
    const session = await intoSessionStore(storage, undefined);
    session.flash("message", "Saved");
    const token = await session.commit();

    const later = await intoSessionStore(storage, `Bearer ${token}`);
    expect(later.get("message")).toBe("Saved");
    await later.commit();
    const afterShown = await intoSessionStore(storage, `Bearer ${token}`);
    expect(afterShown.has("message")).toBe(false);
  });
});
