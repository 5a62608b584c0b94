/**
 * express-session with connect-redis, on the local Redis (127.0.0.1:6379) through the
 * `redis` client. Keys carry a prefix unique to the harness run and the server process,
 * and are deleted when the server stops (the harness also sweeps the run's prefix at the end).
 */
import { createClient } from "redis";
import { sessionMaxAgeSeconds } from "../config.js";
import type { VariantFactory } from "../routes.js";
import { expressSessionVariant, requirePeer } from "./express-session-common.js";
import { countingRedisCommands } from "./redis-command-counter.js";

// Through `require` for the reason given in express-session-common.ts: its types import express-session's.
const { RedisStore } = requirePeer("connect-redis") as {
  RedisStore: new (options: { client: unknown; prefix: string; ttl: number }) => { clear(): Promise<unknown> };
};

export const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Every key of one harness run starts with this. */
export const redisRunPrefix = (runId: string) => `remastered-bench:${runId}:`;

export const expressSessionRedis: VariantFactory = async ({ runId }) => {
  // No reconnecting: a Redis that is not there fails the start at once, and one that goes away mid-run fails the run.
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
  client.on("error", (error) => console.error("redis:", error));
  await client.connect();
  const counted = countingRedisCommands(client);
  const store = new RedisStore({ client: counted.client, prefix: `${redisRunPrefix(runId)}${process.pid}:`, ttl: sessionMaxAgeSeconds });
  return {
    ...expressSessionVariant(store, async () => {
      await store.clear();
      await client.quit();
    }),
    serverCalls: () => ({ ...counted.counts }),
  };
};

/**
 * Deletes every key of a harness run (servers delete their own when they stop; this
 * catches a server that crashed). Resolves to the number of keys deleted.
 */
export async function sweepRedisRun(runId: string, timeoutMs = 5_000): Promise<number> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: timeoutMs, reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    let deleted = 0;
    for await (const keys of client.scanIterator({ MATCH: `${redisRunPrefix(runId)}*`, COUNT: 500 })) {
      if (keys.length > 0) deleted += await client.del(keys);
    }
    return deleted;
  } finally {
    await client.quit().catch(() => {});
  }
}
