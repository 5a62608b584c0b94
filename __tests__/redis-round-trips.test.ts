// What each kind of request sends to Redis, seen with MONITOR on a Redis server this file
// starts for itself (the machine's Redis is shared: other tests' commands would mix in):
// nothing for a request that changed nothing or carries a hostile cookie, one HGETALL to
// read, one script to write.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Redis } from "ioredis";
import request from "supertest";
import { createCookieCipher } from "../lib/encryption/cookie-cipher.js";
import { createRedisSessionStorage } from "../lib/index.js";
import { cookiePair, otherSecret, setCookieFor, testCookie, testSecret } from "./fixtures.js";
import {
  countByName,
  ioredisClient,
  keysUnder,
  redisApp,
  redisKeyOf,
  redisPort,
  sessionIdIn,
  watchCommands,
} from "./redis-fixtures.js";
import { startRedisServer, type RedisServer } from "./redis-servers.js";
import { serverIsUp } from "./servers.js";

const redisIsUp = await serverIsUp("Redis", redisPort);
const prefix = "sess:"; // the default: this server holds nothing else

(redisIsUp ? describe : describe.skip)("Redis commands per request", () => {
  let server: RedisServer;
  let client: Redis;
  let observer: Redis;
  let watcher: Awaited<ReturnType<typeof watchCommands>>;

  beforeAll(async () => {
    server = await startRedisServer();
    [client, observer, watcher] = await Promise.all([ioredisClient(server.port), ioredisClient(server.port), watchCommands(server.port)]);
  });

  afterAll(async () => {
    watcher.stop();
    client.disconnect();
    observer.disconnect();
    await server.stop();
  });

  const app = () =>
    redisApp(createRedisSessionStorage({ client, cookie: testCookie() }), (app) => {
      app.get("/", (_req, res) => res.send("no session used"));
      app.get("/user", (req, res) => res.json(req.session.get("user") ?? null));
      app.post("/user/:name", (req, res) => {
        req.session.set("user", req.params.name);
        res.sendStatus(204);
      });
      app.post("/login", (req, res) => {
        req.session.regenerate();
        res.sendStatus(204);
      });
      app.post("/logout", (req, res) => {
        req.session.destroy();
        res.sendStatus(204);
      });
    });

  /** The commands clients sent while `requests` ran, counted by name. */
  const commandsDuring = async (requests: () => Promise<unknown>) => countByName(await watcher.during(requests));

  /** A stored session (the script is cached on the server after the first). */
  const storedSession = async () => cookiePair(await request(app()).post("/user/ada"));

  test("a request that does not use the session, or reads a new one, sends nothing to Redis", async () => {
    const ran = await commandsDuring(async () => {
      await request(app()).get("/");
      const anonymous = await request(app()).get("/user");
      expect(anonymous.body).toBeNull();
      expect(setCookieFor(anonymous)).toBeUndefined();
    });
    expect(ran).toEqual({});
  });

  test("a new session costs one script; reading it one HGETALL; changing it one HGETALL and one script", async () => {
    await storedSession(); // the first script call loads the script (EVALSHA answers NOSCRIPT, then EVAL)
    let session = "";
    expect(await commandsDuring(async () => (session = await storedSession()))).toEqual({ evalsha: 1 });
    expect(await commandsDuring(() => request(app()).get("/user").set("Cookie", session))).toEqual({ hgetall: 1 });
    expect(await commandsDuring(() => request(app()).post("/user/bob").set("Cookie", session))).toEqual({ hgetall: 1, evalsha: 1 });
  });

  test("a request that sets a value to what it already is writes nothing", async () => {
    const session = await storedSession();
    expect(await commandsDuring(() => request(app()).post("/user/ada").set("Cookie", session))).toEqual({ hgetall: 1 });
  });

  test("regenerate costs a script for the new hash and a DEL of the old; destroy one DEL", async () => {
    const session = await storedSession();
    let loggedIn = "";
    expect(await commandsDuring(async () => (loggedIn = cookiePair(await request(app()).post("/login").set("Cookie", session))))).toEqual({
      hgetall: 1,
      evalsha: 1,
      del: 1,
    });
    expect(await commandsDuring(() => request(app()).post("/logout").set("Cookie", loggedIn))).toEqual({ hgetall: 1, del: 1 });
  });

  test("hostile cookies never reach Redis; a well-formed id we never issued costs one HGETALL of a hashed key, and no write", async () => {
    const session = await storedSession();
    const token = session.slice("sid=".length);
    const ours = createCookieCipher([testSecret], "sid");
    const inOurEnvelope = (id: string) => `sid=${ours.seal(`${Date.now().toString(36)}.${(Date.now() + 3_600_000).toString(36)}.${id}`)}`;
    const hostile = [
      "sid=garbage",
      `sid=${token.slice(0, -5)}`,
      `sid=${token.slice(0, 20)}x${token.slice(21)}`,
      `sid=${createCookieCipher([otherSecret], "sid").seal("1.2.whatever")}`,
      `sid=${"A".repeat(8000)}`,
      // Sealed with our own secret (a leaked secret), but not an id of ours: refused before any lookup.
      inOurEnvelope("*"),
      inOurEnvelope("../../etc/passwd"),
      inOurEnvelope("x".repeat(5000)),
    ];
    const keysBefore = await keysUnder(observer, prefix);
    const ran = await commandsDuring(async () => {
      for (const cookie of hostile) {
        const answer = await request(app()).post("/user/mallory").set("Cookie", cookie);
        expect(answer.status).toBe(204);
        // A fresh session was started for the write, under a new id of ours.
        expect(await sessionIdIn(setCookieFor(answer)!)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
    });
    // One new session per request (created with a new id), nothing else.
    expect(ran).toEqual({ evalsha: hostile.length });

    const unknownId = "A".repeat(43);
    const probe = await watcher.during(() => request(app()).get("/user").set("Cookie", inOurEnvelope(unknownId)));
    expect(probe).toEqual([["hgetall", redisKeyOf(prefix, unknownId)]]);
    const keysAfter = await keysUnder(observer, prefix);
    expect(keysAfter).not.toContain(redisKeyOf(prefix, unknownId));
    expect(keysAfter.length).toBe(keysBefore.length + hostile.length);
  });

  test("a small session takes a few hundred bytes (MEMORY USAGE)", async () => {
    const session = await storedSession();
    const key = redisKeyOf(prefix, await sessionIdIn(session));
    const bytes = Number(await observer.call("MEMORY", "USAGE", key));
    expect(bytes).toBeGreaterThan(50);
    expect(bytes).toBeLessThan(300);
  });
});
