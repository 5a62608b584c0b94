import { SessionConfigError } from "../../errors.js";

/**
 * The part of ioredis's API the Redis storage calls: ioredis `Redis` and `Cluster`, and
 * forks with the same API (iovalkey). A structural type of our own, so that neither
 * package is needed to compile against this one.
 *
 * @example
 * import { Cluster } from "ioredis";
 * const client: IoredisStyleClient = new Cluster([{ host: "10.0.0.1", port: 6379 }]);
 */
export interface IoredisStyleClient {
  /** HGETALL: reads a session's hash. */
  hgetall(key: string): Promise<unknown>;
  /** EVALSHA: runs the storage's write script, cached on the server. */
  evalsha(sha1: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
  /** EVAL: the same script, sent whole when the server answers NOSCRIPT. */
  eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
  /** DEL: removes a session (destroy, and the old identity of regenerate). */
  del(key: string): Promise<unknown>;
}

/**
 * The part of node-redis's API the Redis storage calls: `createClient()` and `createCluster()` (v4 and later).
 *
 * @example
 * import { createClient } from "redis";
 * const client: NodeRedisStyleClient = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 */
export interface NodeRedisStyleClient {
  /** HGETALL: reads a session's hash. */
  hGetAll(key: string): Promise<unknown>;
  /** EVALSHA: runs the storage's write script, cached on the server. */
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** EVAL: the same script, sent whole when the server answers NOSCRIPT. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** DEL: removes a session (destroy, and the old identity of regenerate). */
  del(key: string): Promise<unknown>;
}

/**
 * A Redis client the storage accepts, recognised by its methods (never by importing a
 * client library): an ioredis `Redis` or `Cluster`, a node-redis client or cluster, or a
 * fork with either API.
 *
 * @example
 * import { Redis } from "ioredis";
 * const client: RedisSessionClient = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 */
export type RedisSessionClient = IoredisStyleClient | NodeRedisStyleClient;

/**
 * A Lua script the server may or may not have cached, and its SHA-1.
 *
 * @example
 * const ping: RedisScript = { source: "return 1", sha1: createHash("sha1").update("return 1").digest("hex") };
 */
export type RedisScript = { source: string; sha1: string };

/**
 * The three commands the storage needs, the same whichever client runs them. Each is one
 * round trip (a script not yet cached on its node costs one more, once).
 *
 * @example
 * const fields = new Map(await commands.hashFields("sess:abc"));
 */
export type RedisCommands = {
  /** HGETALL: the hash's fields and values; empty when the key does not exist. */
  hashFields(key: string): Promise<Iterable<[string, string]>>;
  /** EVALSHA of `script` on the node that holds `key`, and EVAL when that node answers NOSCRIPT. */
  runScript(script: RedisScript, key: string, args: string[]): Promise<unknown>;
  /** DEL. */
  deleteKey(key: string): Promise<void>;
};

/**
 * The storage's commands over `client`, after checking that it is a client the storage
 * knows how to drive (a `SessionConfigError` on `client` says what to pass otherwise).
 *
 * @example
 * const commands = redisCommandsOf(new Redis(process.env.REDIS_URL!));
 * await commands.deleteKey("sess:abc");
 */
export function redisCommandsOf(client: unknown): RedisCommands {
  if (hasMethods(client, ["hGetAll", "evalSha", "eval", "del"])) return nodeRedisCommands(client as NodeRedisStyleClient);
  if (hasMethods(client, ["hgetall", "evalsha", "eval", "del"])) return ioredisCommands(client as IoredisStyleClient);
  throw new SessionConfigError("client", `expected a Redis client: ${describeClientProblem(client)}`);
}

function ioredisCommands(client: IoredisStyleClient): RedisCommands {
  return {
    async hashFields(key) {
      return entriesOf(await client.hgetall(key));
    },
    async runScript(script, key, args) {
      try {
        return await client.evalsha(script.sha1, 1, key, ...args);
      } catch (error) {
        if (!isNoScriptError(error)) throw error;
        return client.eval(script.source, 1, key, ...args);
      }
    },
    async deleteKey(key) {
      await client.del(key);
    },
  };
}

function nodeRedisCommands(client: NodeRedisStyleClient): RedisCommands {
  return {
    async hashFields(key) {
      return entriesOf(await client.hGetAll(key));
    },
    async runScript(script, key, args) {
      const options = { keys: [key], arguments: args };
      try {
        return await client.evalSha(script.sha1, options);
      } catch (error) {
        if (!isNoScriptError(error)) throw error;
        return client.eval(script.source, options);
      }
    },
    async deleteKey(key) {
      await client.del(key);
    },
  };
}

/**
 * A node that restarted, a failover, or a Cluster node seen for the first time has not
 * cached the script yet: EVAL sends it, and caches it there for the next EVALSHA.
 */
function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * An HGETALL reply as entries. Both clients answer a plain object by default; node-redis
 * with a RESP3 type mapping may answer a `Map`, and a Buffer type mapping gives Buffers.
 */
function entriesOf(reply: unknown): Iterable<[string, string]> {
  if (reply instanceof Map) return [...reply].map(([field, value]) => [String(field), String(value)]);
  if (reply === null || typeof reply !== "object") throw new TypeError(`HGETALL answered ${typeof reply}, not a hash`);
  const entries = Object.entries(reply as Record<string, unknown>);
  for (const entry of entries) if (typeof entry[1] !== "string") entry[1] = String(entry[1]);
  return entries as [string, string][];
}

function hasMethods(value: unknown, names: string[]): boolean {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

/** Why `client` is not a client, and what to pass instead. */
function describeClientProblem(client: unknown): string {
  const examples =
    "pass a client you created, e.g. `new Redis(process.env.REDIS_URL)` from ioredis (or its `Cluster`), " +
    "or `createClient({ url: process.env.REDIS_URL })` from redis (node-redis, or `createCluster`), connected with `await client.connect()`.";
  if (client === undefined || client === null) return `got ${String(client)}; ${examples}`;
  if (typeof client === "string") return `got the string ${JSON.stringify(client.slice(0, 40))}, not a client; ${examples}`;
  if (hasMethods(client, ["createClient"])) return `got the redis module itself, not a client; ${examples}`;
  return (
    "this object lacks the methods the storage calls (HGETALL, EVALSHA, EVAL and DEL, as " +
    "`hgetall`/`evalsha`/`eval`/`del` in ioredis or `hGetAll`/`evalSha`/`eval`/`del` in node-redis); " +
    examples
  );
}
