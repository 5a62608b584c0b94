/**
 * Redis round trips per request, counted in the server process: the client a variant hands
 * its session library is wrapped so that every command method it is asked for is counted,
 * by Redis command name. Each is one round trip (pipelining aside). Counting on the client
 * side keeps other users of the same Redis (another test or benchmark run) out of the
 * numbers, which `INFO commandstats` would mix in, and counts a script as one command
 * (INFO counts every command the script runs inside Redis too).
 */

import type { ServerCallCounts } from "../routes.js";

/** The command methods the session libraries here call, in ioredis's and node-redis's spelling. */
const commandMethods = new Set(["get", "set", "expire", "del", "mGet", "hGetAll", "hgetall", "evalSha", "evalsha", "eval"]);

/**
 * `client`, counting its command calls into `counts`. Methods run with the real client as
 * `this`, so the client's own inner calls are not counted again.
 *
 * @example
 * const { client: counted, counts } = countingRedisCommands(createClient());
 * new RedisStore({ client: counted });
 */
export function countingRedisCommands<Client extends object>(client: Client): { client: Client; counts: ServerCallCounts } {
  const counts: ServerCallCounts = {};
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  const counted = new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof property !== "string" || !commandMethods.has(property) || typeof value !== "function") return value;
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        const command = property.toUpperCase();
        wrapper = (...args: unknown[]) => {
          counts[command] = (counts[command] ?? 0) + 1;
          return (value as (...args: unknown[]) => unknown).apply(target, args);
        };
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
  return { client: counted, counts };
}
