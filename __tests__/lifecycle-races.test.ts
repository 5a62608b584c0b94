// The lifecycle never undoes a login or a logout: races between requests of one session,
// storage failures in the middle of destroy()/regenerate(), and storages that never answer.
import { describe, expect, test } from "@jest/globals";
import type { Express } from "express";
import request from "supertest";
import {
  SessionStorageTimeoutError,
  createMemorySessionStorage,
  intoSessionStore,
  type MemorySessionStorage,
  type SessionStorage,
} from "../lib/index.js";
import { appWithSessions, cookiePair, setCookieFor, slowStorage, testCookie } from "./fixtures.js";

/** A promise the test resolves by hand: holds a request in the middle of its handler. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Login (regenerate), who am I, and a slow route that waits for `slowGate` before adding to the cart. */
function shopApp(storage: SessionStorage<any, any>, slowGate?: Promise<void>): Express { // eslint-disable-line @typescript-eslint/no-explicit-any
  return appWithSessions(
    (app) => {
      app.post("/visit", (req, res) => {
        req.session.set("theme", "dark");
        res.sendStatus(204);
      });
      app.post("/login", (req, res) => {
        req.session.regenerate();
        req.session.set("user", "ada");
        res.sendStatus(204);
      });
      app.post("/logout", (req, res) => {
        req.session.destroy();
        res.sendStatus(204);
      });
      app.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null, cart: req.session.get("cart") ?? null }));
      app.post("/slow-cart", async (req, res) => {
        await slowGate;
        req.session.set("cart", ["book"]);
        res.sendStatus(204);
      });
    },
    { storage },
  );
}

describe("a request that started before a login and finishes after it", () => {
  test("sends no cookie, so the browser keeps the logged-in one (memory storage)", async () => {
    const slow = gate();
    const app = shopApp(createMemorySessionStorage({ cookie: testCookie() }), slow.opened);
    const anonymous = cookiePair(await request(app).post("/visit"));

    const slowRequest = request(app).post("/slow-cart").set("Cookie", anonymous).then((res) => res);
    const login = await request(app).post("/login").set("Cookie", anonymous);
    const loggedIn = cookiePair(login);
    slow.open();
    const late = await slowRequest;

    expect(late.status).toBe(204);
    expect(setCookieFor(late)).toBeUndefined();
    expect((await request(app).get("/me").set("Cookie", loggedIn)).body).toEqual({ user: "ada", cart: null });
    expect((await request(app).get("/me").set("Cookie", anonymous)).body).toEqual({ user: null, cart: null });
  });
});

describe("a request that started before a logout and changes something", () => {
  test("does not bring the session back, and sends no cookie for it", async () => {
    const slow = gate();
    const storage = createMemorySessionStorage({ cookie: testCookie() });
    const app = shopApp(storage, slow.opened);
    const loggedIn = cookiePair(await request(app).post("/login"));

    const slowRequest = request(app).post("/slow-cart").set("Cookie", loggedIn).then((res) => res);
    await request(app).post("/logout").set("Cookie", loggedIn);
    slow.open();
    const late = await slowRequest;

    expect(setCookieFor(late)).toBeUndefined();
    expect(storage.size).toBe(0);
    expect((await request(app).get("/me").set("Cookie", loggedIn)).body).toEqual({ user: null, cart: null });
  });
});

/** The memory storage, whose regenerate() or destroy() fails the first `failures` times. */
function failingAtFirst(method: "regenerate" | "destroy", failures = 1): MemorySessionStorage {
  const storage = createMemorySessionStorage({ cookie: testCookie() });
  let left = failures;
  const real = storage[method].bind(storage) as (...args: unknown[]) => Promise<unknown>;
  return Object.assign(storage, {
    [method]: async (...args: unknown[]) => {
      if (left-- > 0) throw new Error(`${method} failed`);
      return real(...args);
    },
  });
}

describe("a destroy() or regenerate() whose storage call fails is retried, never dropped", () => {
  test("regenerate(): the handler's own commit fails, the middleware's retry still moves the session to a new id", async () => {
    const storage = failingAtFirst("regenerate");
    const app = appWithSessions(
      (app) => {
        app.post("/visit", (req, res) => {
          req.session.set("theme", "dark");
          res.sendStatus(204);
        });
        app.post("/login", async (req, res) => {
          req.session.regenerate();
          req.session.set("user", "ada");
          const failed = await req.session.commit().then(() => false, () => true);
          res.status(failed ? 202 : 204).end();
        });
        app.get("/me", (req, res) => res.json({ user: req.session.get("user") ?? null }));
      },
      { storage },
    );
    const anonymous = cookiePair(await request(app).post("/visit"));
    const login = await request(app).post("/login").set("Cookie", anonymous);
    expect(login.status).toBe(202); // the handler saw its own commit fail
    const loggedIn = cookiePair(login);
    expect(loggedIn).not.toBe(anonymous);
    expect((await request(app).get("/me").set("Cookie", loggedIn)).body).toEqual({ user: "ada" });
    // The identity a fixation attack would have planted is dead.
    expect((await request(app).get("/me").set("Cookie", anonymous)).body).toEqual({ user: null });
  });

  test("destroy(): when the storage fails, the error handler answers and the session is not written under its old id", async () => {
    const storage = failingAtFirst("destroy");
    const app = shopApp(storage);
    const loggedIn = cookiePair(await request(app).post("/login"));
    const logout = await request(app).post("/logout").set("Cookie", loggedIn);
    expect(logout.status).toBe(500);
    expect(logout.text).toBe("Error: destroy failed");
    expect(setCookieFor(logout)).toBeUndefined();
    // The failure left the session as it was (nothing written under the old id), and a retry of the logout works.
    expect((await request(app).get("/me").set("Cookie", loggedIn)).body).toEqual({ user: "ada", cart: null });
    await request(app).post("/logout").set("Cookie", loggedIn);
    expect((await request(app).get("/me").set("Cookie", loggedIn)).body).toEqual({ user: null, cart: null });
  });
});

describe("commit() never writes the same change twice", () => {
  test("a second commit with nothing new writes nothing and resolves to the same header", async () => {
    const storage = slowStorage(createMemorySessionStorage({ cookie: testCookie() }), 1);
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    const first = await session.commit();
    const second = await session.commit();
    expect(second).toBe(first);
    expect(storage.commits).toBe(1);
    session.set("user", "bob");
    await session.commit();
    expect(storage.commits).toBe(2);
  });
});

describe("a storage that never answers", () => {
  const neverAnswers = <T>() => new Promise<T>(() => undefined);
  const hanging = (phase: "read" | "write"): SessionStorage<unknown, unknown> => {
    const inner = createMemorySessionStorage({ cookie: testCookie() });
    return {
      fromHeader: phase === "read" ? neverAnswers : (header) => inner.fromHeader(header),
      toHeader: phase === "write" ? neverAnswers : (session, metadata) => inner.toHeader(session, metadata as never),
    };
  };

  test.each(["read", "write"] as const)("on %s, the request fails within storageTimeout with SessionStorageTimeoutError", async (phase) => {
    const app = appWithSessions(
      (app) =>
        app.get("/", (req, res) => {
          req.session.set("user", "ada");
          res.send("ok");
        }),
      { storage: hanging(phase), storageTimeout: 300 },
    );
    const started = Date.now();
    const res = await request(app).get("/");
    expect(Date.now() - started).toBeLessThan(1500);
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^SessionStorageTimeoutError: The session could not be (read|written): the session storage did not answer within 300 ms/);
  });

  test("through intoSessionStore, the default bound (3 s) applies, and the error says what to check", async () => {
    const error = await intoSessionStore(hanging("read"), "sid=x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionStorageTimeoutError);
    expect(error).toMatchObject({ code: "ERR_SESSION_STORAGE_TIMEOUT", operation: "read", timeout: 3000 });
  });
});
