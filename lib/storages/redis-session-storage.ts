import type { CookieOptions } from "../cookie/cookie-options.js";
import { refuseUnknownOptions, SessionConfigError } from "../errors.js";
import type { Serializable } from "../serializable.js";
import type { Clock } from "../session-expiry.js";
import { validateTimeout } from "../storage-timeout.js";
import type { EncryptedCookieStorage } from "../with-encrypted-cookies.js";
import { redisCommandsOf, type RedisSessionClient } from "./redis/redis-client.js";
import { createRedisSessionRecords } from "./redis/redis-session-records.js";
import { createServerSideSessionStorage, type ServerSideSessionMetadata } from "./server-side-session-storage.js";

/**
 * The options of `createRedisSessionStorage`; see the README for each default and why.
 *
 * @example
 * const options: RedisSessionStorageOptions = { client, cookie: { name: "sid", secret }, prefix: "shop:sess:" };
 */
export type RedisSessionStorageOptions = {
  /**
   * Your client, created and connected by you: an ioredis `Redis` or `Cluster`, or a
   * node-redis client or cluster (`createClient`/`createCluster`). Recommended: no offline
   * queue (ioredis `enableOfflineQueue: false`, node-redis `disableOfflineQueue: true`),
   * so that requests fail at once while Redis is unreachable instead of waiting for `timeout`.
   */
  client: RedisSessionClient;
  /** The session cookie's settings: `name` and `secret` are required (see `CookieOptions`). */
  cookie: CookieOptions;
  /** Put before every key the storage writes. Default `"sess:"`. */
  prefix?: string;
  /** Milliseconds each call to Redis may take before the request fails. Default `1000`. */
  timeout?: number;
  /** ms since the epoch; default `Date.now`. Decides expiry (Redis's TTL follows it). For tests that move time forward. */
  clock?: Clock;
};

/**
 * A Redis storage: sessions in Redis hashes, an encrypted random id in the cookie.
 *
 * @example
 * const storage: RedisSessionStorage = createRedisSessionStorage({ client, cookie });
 */
export type RedisSessionStorage = EncryptedCookieStorage<Serializable, ServerSideSessionMetadata>;

const defaultPrefix = "sess:";
const defaultTimeout = 1_000;
const knownOptions = new Set(["client", "cookie", "prefix", "timeout", "clock"]);

/**
 * Keeps sessions in Redis (or Valkey, or a Redis Cluster), shared by every process of the
 * app; the cookie carries only an encrypted random id. Each session is one hash under
 * `prefix` + a SHA-256 of the id, a field per session key: a commit writes only the keys
 * its request changed (concurrent requests that change different keys both keep their
 * change), in one guarded script that never brings back a session destroyed or expired
 * meanwhile. Redis's TTL follows the session's expiry exactly. Values are JSON
 * (`Serializable`).
 *
 * @example
 * import { Redis } from "ioredis";
 * const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { enableOfflineQueue: false });
 * app.use(sessions({
 *   storage: createRedisSessionStorage({ client, cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * }));
 */
export function createRedisSessionStorage(options: RedisSessionStorageOptions): RedisSessionStorage {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError(
      "options",
      "expected { client, cookie }, e.g. createRedisSessionStorage({ client: new Redis(process.env.REDIS_URL), cookie: { name, secret } }).",
    );
  }
  refuseUnknownOptions("", options, knownOptions);
  const { client, cookie, prefix = defaultPrefix, clock } = options;
  const commands = redisCommandsOf(client);
  validatePrefix(prefix);
  const timeout = validateTimeout("timeout", options.timeout, defaultTimeout);
  if (clock !== undefined && typeof clock !== "function") {
    throw new SessionConfigError("clock", "expected a function that returns the time in ms since the epoch, like Date.now.");
  }
  const records = createRedisSessionRecords({ commands, prefix });
  return createServerSideSessionStorage({ cookie, records, timeout, name: "Redis", clock });
}

/**
 * Alias of `createRedisSessionStorage`, named like the storages of Remastered's sessions page.
 *
 * @example
 * const storage = RedisSessionStorage({ client, cookie: { name: "sid", secret } });
 */
export const RedisSessionStorage = createRedisSessionStorage;

function validatePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== "string" || prefix === "") {
    throw new SessionConfigError(
      "prefix",
      `expected a non-empty string that no other data in this Redis starts with (default "${defaultPrefix}"); got ${JSON.stringify(prefix)}.`,
    );
  }
  // A hash tag would pin every session to one Cluster slot, so to one node.
  if (/[{}]/.test(prefix)) {
    throw new SessionConfigError(
      "prefix",
      `"${prefix}" contains { or }: on a Redis Cluster a hash tag would put every session in one slot, on one node. ` +
        'Use a prefix without braces, e.g. "myapp:sess:"; each session is one key, so it never needs a hash tag.',
    );
  }
}
