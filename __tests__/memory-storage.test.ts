import { describe, expect, test } from "@jest/globals";
import request from "supertest";
import { createMemorySessionStorage, intoSessionStore, SessionConfigError } from "../lib/index.js";
import { createCookieCipher } from "../lib/encryption/cookie-cipher.js";
import { appWithSessions, cookiePair, setCookieFor, testCookie, testSecret } from "./fixtures.js";

/** The session id inside one of our cookies (the envelope is `createdAt.expiresAt.id`). */
async function idInside(cookie: string): Promise<string> {
  const opened = await createCookieCipher([testSecret], "sid").open(cookie.split("=")[1]!);
  if (!opened) throw new Error("the cookie did not decrypt");
  return opened.plaintext.split(".").slice(2).join(".");
}

describe("the memory storage", () => {
  test("keeps values by reference: a stored object comes back as the same object", async () => {
    const remembered = { items: ["book"], since: new Date(0) };
    let readBack: unknown;
    const app = appWithSessions(
      (app) => {
        app.post("/cart", (req, res) => {
          req.session.set("cart", remembered);
          res.sendStatus(204);
        });
        app.get("/cart", (req, res) => {
          readBack = req.session.get("cart");
          res.sendStatus(204);
        });
      },
      { storage: createMemorySessionStorage({ cookie: testCookie() }) },
    );
    const stored = await request(app).post("/cart");
    await request(app).get("/cart").set("Cookie", cookiePair(stored));
    expect(readBack).toBe(remembered);
  });

  test("stores nothing for requests that never write, however many arrive", async () => {
    const storage = createMemorySessionStorage({ cookie: testCookie() });
    const app = appWithSessions((app) => app.get("/", (req, res) => res.json({ has: req.session.has("user") })), { storage });
    for (let index = 0; index < 50; index++) {
      const response = await request(app).get("/");
      expect(setCookieFor(response)).toBeUndefined();
    }
    expect(storage.size).toBe(0);
  });

  test("ids are 256 random bits, and an id the storage does not know is never adopted", async () => {
    const ours = createMemorySessionStorage({ cookie: testCookie() });
    const elsewhere = createMemorySessionStorage({ cookie: testCookie() }); // same secret, other sessions
    const writeRoute = (app: import("express").Express) =>
      app.post("/", (req, res) => {
        req.session.set("visits", 1);
        res.sendStatus(204);
      });
    const foreign = await request(appWithSessions(writeRoute, { storage: elsewhere })).post("/");
    const planted = await idInside(cookiePair(foreign));
    expect(planted).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const response = await request(appWithSessions(writeRoute, { storage: ours })).post("/").set("Cookie", cookiePair(foreign));
    const issued = await idInside(cookiePair(response));
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued).not.toBe(planted);
  });

  test("two concurrent requests that change different keys both keep their change", async () => {
    let arrived = 0;
    let releaseBoth!: () => void;
    const bothArrived = new Promise<void>((resolve) => (releaseBoth = resolve));
    const app = appWithSessions(
      (app) => {
        app.post("/start", (req, res) => {
          req.session.set("started", true);
          res.sendStatus(204);
        });
        app.post("/set/:key", async (req, res) => {
          if (++arrived === 2) releaseBoth();
          await bothArrived; // both requests have read the session before either commits
          req.session.set(req.params.key!, req.params.key!.toUpperCase());
          res.sendStatus(204);
        });
        app.get("/", (req, res) => res.json({ left: req.session.get("left"), right: req.session.get("right") }));
      },
      { storage: createMemorySessionStorage({ cookie: testCookie() }) },
    );
    const cookie = cookiePair(await request(app).post("/start"));
    await Promise.all([
      request(app).post("/set/left").set("Cookie", cookie),
      request(app).post("/set/right").set("Cookie", cookie),
    ]);
    expect((await request(app).get("/").set("Cookie", cookie)).body).toEqual({ left: "LEFT", right: "RIGHT" });
  });

  test("concurrent writes to the same key: the last commit wins", async () => {
    const storage = createMemorySessionStorage({ cookie: testCookie() });
    const first = await intoSessionStore(storage);
    first.set("color", "red");
    const cookie = (await first.commit()).split(";")[0]!;
    const [early, late] = await Promise.all([intoSessionStore(storage, cookie), intoSessionStore(storage, cookie)]);
    early.set("color", "green");
    late.set("color", "blue");
    await early.commit();
    await late.commit();
    expect((await intoSessionStore(storage, cookie)).get("color")).toBe("blue");
  });

  test("expired sessions are swept from memory without a timer", async () => {
    let now = Date.UTC(2030, 0, 1);
    const storage = createMemorySessionStorage({ cookie: testCookie({ maxAge: 60 }), clock: () => now });
    for (let index = 0; index < 10; index++) {
      const session = await intoSessionStore(storage);
      session.set("n", index);
      await session.commit();
    }
    expect(storage.size).toBe(10);
    now += 61_000;
    const fresh = await intoSessionStore(storage);
    fresh.set("n", 10);
    await fresh.commit();
    expect(storage.size).toBe(1);
  });

  test("100 000 new sessions stay within the bound, evicting the least recently used", async () => {
    const storage = createMemorySessionStorage({ cookie: testCookie() });
    let oldest = "";
    for (let index = 0; index < 100_000; index++) {
      const session = await intoSessionStore(storage);
      session.set("user", { id: index, name: "visitor" });
      const cookie = (await session.commit()).split(";")[0]!;
      if (index === 0) oldest = cookie;
    }
    expect(storage.size).toBe(10_000);
    expect((await intoSessionStore(storage, oldest)).has("user")).toBe(false);
  }, 60_000);

  test("a write keeps the id, so the client's token is sent back as it is until renewal is due", async () => {
    let now = Date.UTC(2030, 0, 1);
    const app = appWithSessions(
      (app) => {
        app.post("/count", (req, res) => {
          req.session.set("count", ((req.session.get("count") as number | undefined) ?? 0) + 1);
          res.json({ count: req.session.get("count") });
        });
      },
      { storage: createMemorySessionStorage({ cookie: testCookie({ maxAge: 600 }), clock: () => now }) },
    );
    const first = await request(app).post("/count");
    now += 60_000;
    const second = await request(app).post("/count").set("Cookie", cookiePair(first));
    expect(second.body).toEqual({ count: 2 });
    expect(cookiePair(second)).toBe(cookiePair(first)); // no new encryption for the same id
    expect(setCookieFor(second)).toMatch(/Max-Age=540/); // the same expiry, counted from now
    now += 250_000; // 290 s left: at most half of maxAge, renewal due
    const renewed = await request(app).post("/count").set("Cookie", cookiePair(second));
    expect(renewed.body).toEqual({ count: 3 });
    expect(cookiePair(renewed)).not.toBe(cookiePair(second));
    expect(setCookieFor(renewed)).toMatch(/Max-Age=600/);
  });

  test.each([0, -1, 1.5, Number.NaN])("maxSessions %p fails at start-up", (maxSessions) => {
    expect(() => createMemorySessionStorage({ cookie: testCookie(), maxSessions })).toThrow(SessionConfigError);
  });
});
