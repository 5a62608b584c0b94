// When Redis goes away: a Redis server this file starts on a port of its own is killed
// mid-test (by process id) and started again on the same port. Requests fail fast through
// Express's error handler with an ERR_SESSION_ code, and the storage recovers by itself,
// with each client's recommended settings and with its defaults (whose offline queue holds
// commands: the storage's timeout answers the request, and a command run late never
// brings a session back).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Redis } from "ioredis";
import { createClient } from "redis";
import request from "supertest";
import { createRedisSessionStorage, intoSessionStore, type RedisSessionClient } from "../lib/index.js";
import { cookiePair, testCookie } from "./fixtures.js";
import { startPausableProxy, type PausableProxy } from "./pausable-proxy.js";
import {
  ioredisClient,
  keysUnder,
  nodeRedisClient,
  redisApp,
  redisKeyOf,
  redisPort,
  sessionIdIn,
  type ErrorAnswer,
} from "./redis-fixtures.js";
import { startRedisServer, type RedisServer } from "./redis-servers.js";
import { serverIsUp } from "./servers.js";

const redisIsUp = await serverIsUp("Redis", redisPort);
const prefix = "sess:"; // the default: this server holds nothing else
/** Well under 2 s: the default timeout (1 s) and some room for a busy machine. */
const failFastBound = 1_500;

type Client = { name: string; client: RedisSessionClient; close(): void };

async function clientsFor(port: number): Promise<Client[]> {
  const ioDefaults = new Redis(port, "127.0.0.1");
  ioDefaults.on("error", () => undefined);
  const nodeRedisDefaults = createClient({ url: `redis://127.0.0.1:${port}` });
  nodeRedisDefaults.on("error", () => undefined);
  await nodeRedisDefaults.connect();
  const [io, nodeRedis] = await Promise.all([ioredisClient(port), nodeRedisClient(port)]);
  return [
    { name: "ioredis, recommended settings", client: io, close: () => io.disconnect() },
    { name: "ioredis, default settings", client: ioDefaults, close: () => ioDefaults.disconnect() },
    { name: "node-redis, recommended settings", client: nodeRedis, close: () => nodeRedis.destroy() },
    { name: "node-redis, default settings", client: nodeRedisDefaults, close: () => nodeRedisDefaults.destroy() },
  ];
}

/** An app that counts visits in the session (each visit reads and writes). */
const visitsApp = (client: RedisSessionClient) =>
  redisApp(createRedisSessionStorage({ client, cookie: testCookie() }), (app) => {
    app.post("/visit", (req, res) => {
      const visits = ((req.session.get("visits") as number | undefined) ?? 0) + 1;
      req.session.set("visits", visits);
      res.json(visits);
    });
  });

const timed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
};

(redisIsUp ? describe : describe.skip)("when Redis goes away", () => {
  let server: RedisServer;
  let observer: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    observer = new Redis(server.port, "127.0.0.1");
    observer.on("error", () => undefined);
  });

  afterAll(async () => {
    observer.disconnect();
    await server.stop();
  });

  test("requests fail fast through Express's error handler, and the storage recovers by itself when Redis is back", async () => {
    const clients = await clientsFor(server.port);
    try {
      const apps = clients.map(({ client }) => visitsApp(client));
      const sessions = await Promise.all(apps.map(async (app) => cookiePair(await request(app).post("/visit"))));
      const keysBeforeTheCrash = await keysUnder(observer, prefix);
      expect(keysBeforeTheCrash).toHaveLength(clients.length);

      await server.kill();

      const outcomes = await Promise.all(
        apps.map((app, index) =>
          Promise.all([
            timed(() => request(app).post("/visit").set("Cookie", sessions[index]!)),
            timed(() => request(app).post("/visit")),
          ]),
        ),
      );
      const timings: Record<string, string> = {};
      outcomes.forEach((answers, index) => {
        for (const [answer, elapsed] of answers) {
          expect([clients[index]!.name, answer.status, (answer.body as ErrorAnswer).code]).toEqual([
            clients[index]!.name,
            500,
            expect.stringMatching(/^ERR_SESSION_/),
          ]);
          expect([clients[index]!.name, elapsed]).toEqual([clients[index]!.name, expect.any(Number)]);
          expect(elapsed).toBeLessThan(failFastBound);
        }
        timings[clients[index]!.name] = answers.map(([answer, elapsed]) => `${Math.round(elapsed)} ms (${(answer.body as ErrorAnswer).code})`).join(", ");
      });

      await server.restart();
      const recoveries: Record<string, number> = {};
      await Promise.all(
        apps.map(async (app, index) => {
          const [answer, elapsed] = await timed(async () => {
            for (;;) {
              const attempt = await request(app).post("/visit");
              if (attempt.status === 200) return attempt;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          });
          expect(answer.body).toBe(1);
          recoveries[clients[index]!.name] = Math.round(elapsed);
          // Redis kept nothing over the restart: the old cookie reads as a new session, not an error.
          expect((await request(app).post("/visit").set("Cookie", sessions[index]!)).body).toBe(1);
        }),
      );
      // The defaults' queues ran the outage's commands once Redis was back: the update of a
      // session Redis no longer held was refused by the script, so no old key came back.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const keysNow = await keysUnder(observer, prefix);
      for (const oldKey of keysBeforeTheCrash) expect(keysNow).not.toContain(oldKey);
      if (process.env.REDIS_TIMINGS) console.log({ failures: timings, recoveryMs: recoveries });
    } finally {
      for (const { close } of clients) close();
    }
  }, 20_000);

  describe("a command that reaches Redis after its request gave up", () => {
    let proxy: PausableProxy;
    let direct: Redis;
    let late: Redis;
    const cookie = testCookie();

    beforeAll(async () => {
      proxy = await startPausableProxy(server.port);
      direct = await ioredisClient(server.port);
      // Default settings: nothing stops a command that was sent from running whenever it arrives.
      late = new Redis(proxy.port, "127.0.0.1");
      await late.ping();
    });

    afterAll(async () => {
      late.disconnect();
      direct.disconnect();
      await proxy.close();
    });

    const storages = (keyPrefix: string) => ({
      onTime: createRedisSessionStorage({ client: direct, cookie, prefix: keyPrefix }),
      delayed: createRedisSessionStorage({ client: late, cookie, prefix: keyPrefix, timeout: 200 }),
    });
    const loggedIn = async (storage: ReturnType<typeof storages>["onTime"]) => {
      const session = await intoSessionStore(storage);
      session.set("user", "ada");
      return (await session.commit()).split(";")[0]!;
    };

    test("never brings back a session destroyed meanwhile", async () => {
      const keyPrefix = "late-write:";
      const { onTime, delayed } = storages(keyPrefix);
      const header = await loggedIn(onTime);
      const slow = await intoSessionStore(delayed, header);

      proxy.pause();
      slow.set("cart", ["book"]);
      await expect(slow.commit()).rejects.toMatchObject({ code: "ERR_SESSION_STORAGE_TIMEOUT" });
      const logout = await intoSessionStore(onTime, header);
      logout.destroy();
      await logout.commit();
      proxy.resume();
      await late.ping(); // answered after the held script ran

      expect(await keysUnder(observer, keyPrefix)).toEqual([]);
    });

    test("a regenerate that completes late keeps the old session and removes the new one", async () => {
      const keyPrefix = "late-regenerate:";
      const { onTime, delayed } = storages(keyPrefix);
      const header = await loggedIn(onTime);
      const oldKey = redisKeyOf(keyPrefix, await sessionIdIn(header));
      const login = await intoSessionStore(delayed, header);

      proxy.pause();
      login.regenerate();
      await expect(login.commit()).rejects.toMatchObject({ code: "ERR_SESSION_STORAGE_TIMEOUT" });
      proxy.resume();

      // The new hash is written late, then removed: the client's cookie still names the old one.
      for (let attempt = 0; attempt < 40 && (await keysUnder(observer, keyPrefix)).length !== 1; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await keysUnder(observer, keyPrefix)).toEqual([oldKey]);
      expect((await intoSessionStore(onTime, header)).get("user")).toBe("ada");
    });
  });
});
