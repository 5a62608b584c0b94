// The Redis storage on a Redis Cluster of three masters that this file starts on ports of
// its own (and stops afterwards, by process id), with both clients' cluster modes: the
// conformance kit, sessions spread over the nodes, and 50 concurrent requests of one session.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Cluster, Redis } from "ioredis";
import { createCluster } from "redis";
import { createRedisSessionStorage, intoSessionStore, type RedisSessionClient } from "../lib/index.js";
import { testSessionStorage } from "../lib/testing/index.js";
import { testCookie } from "./fixtures.js";
import { allFiftyKept, fiftyConcurrentKeys, ioredisCluster, keysUnder, nodeRedisCluster, redisPort } from "./redis-fixtures.js";
import { startRedisCluster, type RedisCluster } from "./redis-servers.js";
import { serverIsUp, startSilentServer } from "./servers.js";

// The Cluster is started here, but its redis-server binary is the one of the machine's Redis.
const redisIsUp = await serverIsUp("Redis", redisPort);
const prefix = "sess:"; // the default: this Cluster holds nothing else
const timeouts = { maxAge: 600, absoluteTimeout: 3600 };
const cookie = testCookie(timeouts);

(redisIsUp ? describe : describe.skip)("the Redis storage on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let io: Cluster;
  let nodeRedis: Awaited<ReturnType<typeof nodeRedisCluster>>;
  /** One plain connection per master, to look at each node as redis-cli -p PORT would. */
  let masters: Redis[];
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  // Cluster clients pointed at a server that never answers, with their default (queueing) settings.
  let silentIo: Cluster;
  let silentNodeRedis: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    [cluster, silent] = await Promise.all([startRedisCluster(3), startSilentServer()]);
    [io, nodeRedis] = await Promise.all([ioredisCluster(cluster.ports), nodeRedisCluster(cluster.ports)]);
    masters = cluster.ports.map((port) => new Redis(port, "127.0.0.1"));
    // disconnectTimeout: a connection still waiting for its handshake otherwise holds the process 2 s at the end.
    silentIo = new Cluster([{ host: "127.0.0.1", port: silent.port }], { redisOptions: { disconnectTimeout: 50 } });
    silentIo.on("error", () => undefined);
    silentNodeRedis = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${silent.port}` }] });
    silentNodeRedis.on("error", () => undefined);
    silentNodeRedis.connect().catch(() => undefined); // never completes: the server never answers
  }, 15_000);

  afterAll(async () => {
    silentIo?.disconnect();
    silentNodeRedis?.destroy();
    for (const master of masters ?? []) master.disconnect();
    io?.disconnect();
    nodeRedis?.destroy();
    await Promise.all([cluster?.stop(), silent?.close()]);
  });

  const conformance = (clientName: string, client: () => RedisSessionClient, silentClient: () => RedisSessionClient) =>
    testSessionStorage(`the Redis storage with ${clientName}`, {
      ...timeouts,
      createStorage: (clock) => createRedisSessionStorage({ client: client(), cookie, clock }),
      unresponsive: {
        timeout: 200,
        createStorage: (clock) => createRedisSessionStorage({ client: silentClient(), cookie, clock, timeout: 200 }),
      },
    });
  conformance("an ioredis Cluster", () => io, () => silentIo);
  conformance("a node-redis cluster", () => nodeRedis, () => silentNodeRedis);

  test("sessions spread over the nodes: each is one key, in the slot of its own hash", async () => {
    const keyPrefix = `${prefix}spread:`;
    const storage = createRedisSessionStorage({ client: io, cookie, prefix: keyPrefix });
    for (let index = 0; index < 30; index++) {
      const session = await intoSessionStore(storage);
      session.set("index", index);
      await session.commit();
    }
    const perNode = await Promise.all(masters.map(async (master) => (await keysUnder(master, keyPrefix)).length));
    expect(perNode.reduce((sum, count) => sum + count, 0)).toBe(30);
    for (const count of perNode) expect(count).toBeGreaterThan(0);
  });

  test.each([
    ["an ioredis Cluster", () => io],
    ["a node-redis cluster", () => nodeRedis],
  ] as const)("50 concurrent requests of one session, each setting its own key, all keep their key (%s)", async (_, client) => {
    expect(await fiftyConcurrentKeys(createRedisSessionStorage({ client: client(), cookie: testCookie() }))).toEqual(allFiftyKept);
  });
});
