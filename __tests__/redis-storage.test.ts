// The Redis storage against the machine's Redis (127.0.0.1:6379) with both clients: the
// conformance kit, what a user sees with redis-cli, and the stories of concurrent requests
// over real HTTP. Every key lives under a prefix of this file's own and is deleted afterwards.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { createClient, createCluster } from "redis";
import request from "supertest";
import {
  createRedisSessionStorage,
  intoSessionStore,
  SessionConfigError,
  type CookieOptions,
  type RedisSessionClient,
  type RedisSessionStorageOptions,
} from "../lib/index.js";
import { testSessionStorage } from "../lib/testing/index.js";
import { cookiePair, setCookieFor, testCookie } from "./fixtures.js";
import {
  allFiftyKept,
  deleteKeysUnder,
  fiftyConcurrentKeys,
  gate,
  ioredisClient,
  keysUnder,
  listen,
  nodeRedisClient,
  redisApp,
  redisKeyOf,
  redisPort,
  redisUrl,
  sessionIdIn,
  uniquePrefix,
} from "./redis-fixtures.js";
import { serverIsUp, startSilentServer } from "./servers.js";

const redisIsUp = await serverIsUp("Redis", redisPort);
const prefix = uniquePrefix("storage");
const timeouts = { maxAge: 600, absoluteTimeout: 3600 };

describe("createRedisSessionStorage's options", () => {
  // A client that never connects: options are checked before any command is sent.
  const idle = new Redis({ lazyConnect: true });
  const cookie = testCookie();
  const refused: [string, Partial<RedisSessionStorageOptions> & Record<string, unknown>, string, RegExp][] = [
    ["no client", { client: undefined }, "client", /got undefined; pass a client you created/],
    ["a URL instead of a client", { client: "redis://127.0.0.1:6379" as never }, "client", /got the string "redis:\/\/127\.0\.0\.1:6379", not a client/],
    ["an object without the commands", { client: { get() {} } as never }, "client", /lacks the methods the storage calls \(HGETALL, EVALSHA, EVAL and DEL/],
    ["an empty prefix", { prefix: "" }, "prefix", /expected a non-empty string/],
    ["a prefix that is not a string", { prefix: 42 as never }, "prefix", /got 42/],
    ["a prefix with a hash tag", { prefix: "{app}:sess:" }, "prefix", /every session in one slot, on one node/],
    ["a zero timeout", { timeout: 0 }, "timeout", /expected a number of milliseconds, 1 or more/],
    ["a timeout as text", { timeout: "1000" as never }, "timeout", /got "1000"/],
    ["a clock that is not a function", { clock: Date.now() as never }, "clock", /expected a function/],
    ["a misspelled option", { prefx: "app:" }, "prefx", /did you mean `prefix`/],
    ["no cookie", { cookie: undefined }, "cookie", /expected an object such as/],
  ];

  test.each(refused)("refuses %s at start-up, saying what to change", (_, override, option, message) => {
    const attempt = () => createRedisSessionStorage({ client: idle, cookie, ...override } as RedisSessionStorageOptions);
    expect(attempt).toThrow(SessionConfigError);
    expect(attempt).toThrow(message);
    expect(() => attempt()).toThrow(expect.objectContaining({ option }) as never);
  });

  test("accepts (and types) ioredis's Redis and Cluster and node-redis's client and cluster, connected or not yet", () => {
    const clients: RedisSessionClient[] = [
      idle,
      new Cluster([], { lazyConnect: true }),
      createClient(),
      createClient({ RESP: 3 }),
      createCluster({ rootNodes: [] }),
    ];
    for (const client of clients) expect(() => createRedisSessionStorage({ client, cookie })).not.toThrow();
    // @ts-expect-error: an object without the commands is not a client, for the compiler either
    const notAClient: RedisSessionClient = { get: async () => null };
    void notAClient;
  });

  test("the library never imports a Redis client at run time (both are optional peers)", () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
      );
    const runtimeImport = /^import\s+(?!type\b)[^;]*from\s+["'](ioredis|iovalkey|redis|@redis\/[^"']+)["']/m;
    for (const file of sources(join(import.meta.dirname, "../lib"))) {
      expect([file, runtimeImport.test(readFileSync(file, "utf8"))]).toEqual([file, false]);
    }
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "../package.json"), "utf8"));
    for (const peer of ["ioredis", "redis"]) {
      expect(manifest.peerDependencies[peer]).toBeDefined();
      expect(manifest.peerDependenciesMeta[peer]).toEqual({ optional: true });
      expect(manifest.dependencies?.[peer]).toBeUndefined();
    }
  });
});

(redisIsUp ? describe : describe.skip)("the Redis storage on Redis", () => {
  let io: Redis;
  let nodeRedis: Awaited<ReturnType<typeof nodeRedisClient>>;
  let cachingNodeRedis: ReturnType<typeof createClient>;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  // Clients pointed at the silent server, with their default (queueing) settings: the storage's timeout must still answer.
  let silentIo: Redis;
  let silentNodeRedis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    silent = await startSilentServer();
    [io, nodeRedis] = await Promise.all([ioredisClient(), nodeRedisClient()]);
    cachingNodeRedis = createClient({ url: redisUrl, RESP: 3, clientSideCache: { maxEntries: 1000 } });
    await cachingNodeRedis.connect();
    // disconnectTimeout: a connection still waiting for its handshake otherwise holds the process 2 s at the end.
    silentIo = new Redis(silent.port, "127.0.0.1", { disconnectTimeout: 50 });
    silentIo.on("error", () => undefined);
    silentNodeRedis = createClient({ url: `redis://127.0.0.1:${silent.port}` });
    silentNodeRedis.on("error", () => undefined);
    silentNodeRedis.connect().catch(() => undefined); // never completes: the server never answers
  });

  afterAll(async () => {
    await deleteKeysUnder([io], prefix);
    silentIo.disconnect();
    silentNodeRedis.destroy();
    await silent.close();
    io.disconnect();
    nodeRedis.destroy();
    cachingNodeRedis.destroy();
  });

  const cookie = testCookie(timeouts);
  const conformance = (clientName: string, client: () => RedisSessionStorageOptions["client"], silentClient: () => RedisSessionStorageOptions["client"]) =>
    testSessionStorage(`the Redis storage with ${clientName}`, {
      ...timeouts,
      createStorage: (clock) => createRedisSessionStorage({ client: client(), cookie, prefix, clock }),
      unresponsive: {
        timeout: 200,
        createStorage: (clock) => createRedisSessionStorage({ client: silentClient(), cookie, prefix, clock, timeout: 200 }),
      },
    });
  conformance("ioredis", () => io, () => silentIo);
  conformance("node-redis", () => nodeRedis, () => silentNodeRedis);
  // Reads may come from the client's memory; Redis invalidates them on every write.
  conformance("node-redis and its client-side cache (RESP3)", () => cachingNodeRedis, () => silentNodeRedis);

  test("a session with thousands of keys is written, and emptied, in one commit each", async () => {
    const storage = createRedisSessionStorage({ client: io, cookie, prefix });
    const keys = [...Array(5000).keys()].map((n) => `key-${n}`);
    const session = await intoSessionStore(storage);
    for (const key of keys) session.set(key, key);
    const header = (await session.commit()).split(";")[0]!;
    const reopened = await intoSessionStore(storage, header);
    expect(keys.every((key) => reopened.get(key) === key)).toBe(true);
    for (const key of keys) reopened.unset(key);
    reopened.set("left", true);
    await reopened.commit();
    const emptied = await intoSessionStore(storage, header);
    expect(keys.some((key) => emptied.has(key))).toBe(false);
    expect(emptied.get("left")).toBe(true);
  });

  describe("what a user sees with redis-cli", () => {
    /** An app whose POST /login stores a user and flashes a message, and GET / reads the user. */
    const loginApp = (cookieOptions: Partial<CookieOptions>, keyPrefix: string, clock?: () => number) =>
      redisApp(createRedisSessionStorage({ client: io, cookie: testCookie(cookieOptions), prefix: keyPrefix, clock }), (app) => {
        app.post("/login", (req, res) => {
          req.session.set("user", { name: "Ada" });
          req.session.flash("message", "Welcome back");
          res.sendStatus(204);
        });
        app.get("/", (req, res) => res.json({ user: req.session.get("user") ?? null }));
      });
    const maxAgeOf = (setCookie: string | undefined) => Number(/Max-Age=(\d+)/.exec(setCookie ?? "")?.[1]);

    test("one hash under the prefix and a SHA-256 of the id: a field per key, flash marks, timestamps; PTTL is the cookie's Max-Age", async () => {
      const keyPrefix = `${prefix}layout:`;
      const login = await request(loginApp({ maxAge: 600 }, keyPrefix)).post("/login");
      const setCookie = setCookieFor(login)!;
      expect(maxAgeOf(setCookie)).toBe(600);

      const keys = await keysUnder(io, keyPrefix);
      const id = await sessionIdIn(setCookie);
      expect(keys).toEqual([redisKeyOf(keyPrefix, id)]);
      expect(keys[0]).toMatch(new RegExp(`^${keyPrefix}[A-Za-z0-9_-]{43}$`));
      expect(keys[0]).not.toContain(id);

      const fields = await io.hgetall(keys[0]!);
      expect(fields).toEqual({
        created: expect.stringMatching(/^\d{13}$/),
        expires: expect.stringMatching(/^\d{13}$/),
        "d:user": '{"name":"Ada"}',
        "d:message": '"Welcome back"',
        "f:message": "1",
      });
      // created is when the request read the session; expires, maxAge after the commit's clock reading
      expect(Number(fields.expires) - Number(fields.created) - 600_000).toBeGreaterThanOrEqual(0);
      expect(Number(fields.expires) - Number(fields.created) - 600_000).toBeLessThan(1000);
      const pttl = await io.pttl(keys[0]!);
      expect(Math.abs(pttl - 600_000)).toBeLessThan(1000);
    });

    test("a renewal writes only the expiry, and PTTL follows the renewed cookie's Max-Age", async () => {
      const keyPrefix = `${prefix}renewal:`;
      let lag = 1500; // the session was written 1.5 s "ago" by the app's clock
      const app = loginApp({ maxAge: 60, renewThreshold: 59 }, keyPrefix, () => Date.now() - lag);
      const login = await request(app).post("/login");
      const [key] = await keysUnder(io, keyPrefix);
      const before = await io.hgetall(key!);

      lag = 0;
      const renewed = await request(app).get("/").set("Cookie", cookiePair(login));
      expect(renewed.body).toEqual({ user: { name: "Ada" } });
      expect(maxAgeOf(setCookieFor(renewed))).toBe(60);
      const after = await io.hgetall(key!);
      expect({ ...after, expires: before.expires }).toEqual(before); // nothing but the expiry changed
      expect(Number(after.expires) - Number(before.expires)).toBeGreaterThanOrEqual(1500);
      expect(Math.abs((await io.pttl(key!)) - 60_000)).toBeLessThan(1000);
    });

    test("absoluteTimeout caps both the cookie and the TTL", async () => {
      const keyPrefix = `${prefix}absolute:`;
      let lag = 40_000; // started 40 s ago; 90 s absolute: 50 s are left, less than maxAge
      const app = loginApp({ maxAge: 60, absoluteTimeout: 90 }, keyPrefix, () => Date.now() - lag);
      const login = await request(app).post("/login");
      const [key] = await keysUnder(io, keyPrefix);
      lag = 0; // now 20 s are left of the idle timeout: renewal is due, and the absolute timeout caps it
      const renewed = await request(app).get("/").set("Cookie", cookiePair(login));
      expect(maxAgeOf(setCookieFor(renewed))).toBe(50);
      expect(Math.abs((await io.pttl(key!)) - 50_000)).toBeLessThan(1000);
    });

    test("with clockTolerance, the key lives as long as its cookie is accepted", async () => {
      const keyPrefix = `${prefix}tolerance:`;
      const login = await request(loginApp({ maxAge: 600, clockTolerance: 30 }, keyPrefix)).post("/login");
      expect(maxAgeOf(setCookieFor(login))).toBe(600);
      const [key] = await keysUnder(io, keyPrefix);
      expect(Math.abs((await io.pttl(key!)) - 630_000)).toBeLessThan(1000);
    });
  });

  describe("concurrent requests over HTTP", () => {
    test.each([
      ["ioredis", () => io],
      ["node-redis", () => nodeRedis],
    ] as const)("50 concurrent requests of one session, each setting its own key, all keep their key (%s)", async (_, client) => {
      const keyPrefix = `${prefix}fifty-${_}:`;
      expect(await fiftyConcurrentKeys(createRedisSessionStorage({ client: client(), cookie: testCookie(), prefix: keyPrefix }))).toEqual(allFiftyKept);
    });

    test("two requests that set the same key: the last commit wins", async () => {
      const firstReachedItsHandler = gate();
      const letFirstAnswer = gate();
      const app = redisApp(createRedisSessionStorage({ client: io, cookie: testCookie(), prefix }), (app) => {
        app.post("/theme/:value", async (req, res) => {
          req.session.set("theme", req.params.value);
          if (req.params.value === "dark") {
            firstReachedItsHandler.open();
            await letFirstAnswer.opened; // read before the other request, committed after it
          }
          res.sendStatus(204);
        });
        app.get("/theme", (req, res) => res.json(req.session.get("theme")));
      });
      const server = await listen(app);
      try {
        const session = cookiePair(await request(server.url).post("/theme/none"));
        const dark = request(server.url).post("/theme/dark").set("Cookie", session).then((answer) => answer);
        await firstReachedItsHandler.opened;
        await request(server.url).post("/theme/light").set("Cookie", session);
        letFirstAnswer.open();
        await dark;
        expect((await request(server.url).get("/theme").set("Cookie", session)).body).toBe("dark");
      } finally {
        await server.close();
      }
    });

    test("a session destroyed while a request ran is not brought back, and that response has no Set-Cookie", async () => {
      const keyPrefix = `${prefix}destroyed:`;
      const slowReachedItsHandler = gate();
      const letSlowAnswer = gate();
      const app = redisApp(createRedisSessionStorage({ client: nodeRedis, cookie: testCookie(), prefix: keyPrefix }), (app) => {
        app.post("/login", (req, res) => {
          req.session.set("user", "ada");
          res.sendStatus(204);
        });
        app.post("/cart", async (req, res) => {
          req.session.set("cart", ["book"]);
          slowReachedItsHandler.open();
          await letSlowAnswer.opened;
          res.sendStatus(204);
        });
        app.post("/logout", (req, res) => {
          req.session.destroy();
          res.sendStatus(204);
        });
      });
      const server = await listen(app);
      try {
        const session = cookiePair(await request(server.url).post("/login"));
        expect(await keysUnder(io, keyPrefix)).toHaveLength(1);
        const slow = request(server.url).post("/cart").set("Cookie", session).then((answer) => answer);
        await slowReachedItsHandler.opened;
        const logout = await request(server.url).post("/logout").set("Cookie", session);
        expect(setCookieFor(logout)).toMatch(/^sid=;/);
        letSlowAnswer.open();
        const slowAnswer = await slow;
        expect(slowAnswer.status).toBe(204);
        expect(slowAnswer.headers["set-cookie"]).toBeUndefined();
        expect(await keysUnder(io, keyPrefix)).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });
});
