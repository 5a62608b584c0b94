/**
 * Ours on Redis: the Redis storage on the local Redis, the same one express-session +
 * connect-redis uses (`BENCH_REDIS_URL`). By default through node-redis, the client
 * connect-redis uses, with the settings our README recommends; two optional variants use
 * ioredis, or node-redis with client-side caching (RESP3 tracking: repeated reads of an
 * unchanged session are answered from the server process's memory).
 *
 * Keys carry the harness run's prefix (swept at the end) and this server's pid, and are
 * deleted when the server stops. The client's commands are counted (Redis round trips per
 * request); with the client-side cache, reads it answered from memory are not round trips.
 */
import { Redis } from "ioredis";
import { createClient } from "redis";
import type { CookieOptions, RedisSessionClient, SessionStorage } from "../../dist/index.js";
import type { VariantContext } from "../routes.js";
import { redisRunPrefix, redisUrl } from "./express-session-redis.js";
import type { ServerCallCounts } from "../routes.js";
import { countingRedisCommands } from "./redis-command-counter.js";

type Library = typeof import("../../dist/index.js");

/** Which client the storage gets. */
export type BenchRedisClient = "node-redis" | "ioredis" | "node-redis-client-side-cache";

export type StorageWithClose = {
  storage: SessionStorage<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
  serverCalls(): ServerCallCounts;
};

export async function remasteredRedisStorage(
  lib: Library,
  cookie: CookieOptions,
  { runId }: VariantContext,
  clientChoice: BenchRedisClient,
): Promise<StorageWithClose> {
  const prefix = `${redisRunPrefix(runId)}remastered:${process.pid}:`;
  const { client, deleteKeys, quit, cacheHits } = await connect(clientChoice, prefix);
  const counted = countingRedisCommands(client);
  return {
    storage: lib.createRedisSessionStorage({ client: counted.client, cookie, prefix }),
    async close() {
      await deleteKeys();
      await quit();
    },
    serverCalls() {
      const hits = cacheHits();
      return hits === 0 ? { ...counted.counts } : { ...counted.counts, HGETALL: (counted.counts.HGETALL ?? 0) - hits };
    },
  };
}

type Connection = {
  client: RedisSessionClient;
  deleteKeys(): Promise<void>;
  quit(): Promise<void>;
  /** HGETALLs the client-side cache answered without asking Redis. */
  cacheHits(): number;
};

async function connect(clientChoice: BenchRedisClient, prefix: string): Promise<Connection> {
  if (clientChoice === "ioredis") {
    const client = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on("error", (error) => console.error("redis:", error));
    await client.connect();
    return {
      client,
      async deleteKeys() {
        for await (const keys of client.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
          if (keys.length > 0) await client.del(...keys);
        }
      },
      quit: async () => void (await client.quit()),
      cacheHits: () => 0,
    };
  }
  const client = createClient({
    url: redisUrl,
    disableOfflineQueue: true,
    // No reconnecting: a Redis that goes away mid-run fails the run, as for connect-redis.
    socket: { connectTimeout: 5_000, reconnectStrategy: false },
    ...(clientChoice === "node-redis-client-side-cache" ? { RESP: 3 as const, clientSideCache: { ttl: 0, maxEntries: 10_000 } } : {}),
  });
  client.on("error", (error) => console.error("redis:", error));
  await client.connect();
  return {
    client,
    async deleteKeys() {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
        if (keys.length > 0) await client.del(keys);
      }
    },
    quit: async () => void (await client.quit()),
    cacheHits: () => client.clientSideCache?.stats().hitCount ?? 0,
  };
}
