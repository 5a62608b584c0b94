// Sessions in Redis for the example app (`npm run example:redis`): every process of the app
// started with the same SESSION_SECRET and REDIS_URL shares them.
import { Redis } from "ioredis";
import { createRedisSessionStorage, type CookieOptions, type RedisSessionStorage } from "../lib/index.js";

export type RedisStorageForApp = {
  /** What `createApp({ storage })` takes: the Redis storage over this connection, given the cookie settings. */
  storage(cookie: CookieOptions): RedisSessionStorage;
  /** Where the sessions are, for the start-up line. */
  description: string;
  /** Closes the connection (after the HTTP server has stopped). */
  close(): Promise<void>;
};

/**
 * Connects to Redis with the settings the README recommends, and resolves once connected
 * (or rejects with the reason, so the app does not start without its sessions).
 *
 * @example
 * const redis = await connectRedisStorage("redis://127.0.0.1:6379");
 * const app = createApp({ secret, storage: redis.storage });
 */
export async function connectRedisStorage(url: string, prefix?: string): Promise<RedisStorageForApp> {
  const client = new Redis(url, {
    // No offline queue: while Redis is unreachable, requests fail at once (an error page)
    // instead of waiting for the storage's timeout; the client keeps reconnecting by itself.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Connect now and wait for it: with no offline queue, a command sent earlier would fail.
    lazyConnect: true,
  });
  client.on("error", (error: Error) => console.error(`Redis: ${error.message}`));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return {
    storage: (cookie) => createRedisSessionStorage({ client, cookie, prefix }),
    description: `Redis at ${new URL(url).host}`,
    async close() {
      await client.quit();
    },
  };
}
