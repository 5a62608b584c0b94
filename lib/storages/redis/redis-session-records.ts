import { createHash } from "node:crypto";
import type { SessionChanges, SessionSnapshot } from "../../session-changes.js";
import type { SessionLifetime } from "../../session-storage.js";
import type { SessionRecords } from "../server-side-session-storage.js";
import type { RedisCommands, RedisScript } from "./redis-client.js";

/**
 * How a session looks in Redis: one hash per session, so that it lives in one Cluster
 * slot and every command names one key.
 *
 * | field | value |
 * | --- | --- |
 * | `d:<key>` | the session value under `<key>`, as JSON |
 * | `f:<key>` | `1` while `<key>` is a flash not yet shown |
 * | `created` | when the session started, ms since the epoch |
 * | `expires` | when it ends, ms since the epoch (the cookie's expiry plus `clockTolerance`); the key's PEXPIREAT |
 *
 * Session keys are always behind `d:` or `f:`, so no session key can collide with the two timestamps.
 *
 * @example
 * await client.hget(key, sessionHashFields.value("user")); // '{"name":"Ada"}'
 */
export const sessionHashFields = {
  value: (key: string) => `d:${key}`,
  flash: (key: string) => `f:${key}`,
  created: "created",
  expires: "expires",
} as const;

const valuePrefix = "d:";
const flashPrefix = "f:";
const flashMark = "1";

/**
 * Writes a session's hash in one atomic step. An update first checks that the hash still
 * exists and has not expired at the app's `now`: a session destroyed, moved or expired
 * while a request ran (or while its command waited in a client's queue) is never brought
 * back, nor left as a partial hash. Then it sets and deletes fields and moves the expiry,
 * the field and the key's TTL together.
 *
 * KEYS[1]: the hash. ARGV: "create" or "update", now (ms), expires (ms), the number of
 * fields to set, those fields and values in pairs, then the fields to delete.
 * HSET and HDEL take at most a few thousand arguments at a time (Lua's stack).
 */
const writeSessionSource = `
local key = KEYS[1]
if ARGV[1] == "update" then
  local expires = tonumber(redis.call("HGET", key, "${sessionHashFields.expires}"))
  if expires == nil or expires <= tonumber(ARGV[2]) then return 0 end
end
redis.call("HSET", key, "${sessionHashFields.expires}", ARGV[3])
local lastSet = 4 + 2 * tonumber(ARGV[4])
for first = 5, lastSet, 2000 do
  redis.call("HSET", key, unpack(ARGV, first, math.min(first + 1999, lastSet)))
end
for first = lastSet + 1, #ARGV, 1000 do
  redis.call("HDEL", key, unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
redis.call("PEXPIREAT", key, ARGV[3])
return 1
`.trim();

/**
 * The script above, with its SHA-1 for EVALSHA.
 *
 * @example
 * await commands.runScript(writeSessionScript, key, ["update", String(now), String(expires), "1", "d:theme", '"dark"']);
 */
export const writeSessionScript: RedisScript = {
  source: writeSessionSource,
  sha1: createHash("sha1").update(writeSessionSource).digest("hex"),
};

/**
 * What the records need: the commands and the key prefix.
 *
 * @example
 * const settings: RedisSessionRecordsSettings = { commands, prefix: "sess:" };
 */
export type RedisSessionRecordsSettings = {
  commands: RedisCommands;
  /** Put before every record key. */
  prefix: string;
};

/**
 * The server-side storage's records as Redis hashes (see `sessionHashFields`): HGETALL to
 * read, one script to create or update, DEL to delete. Expiry is decided by the app's
 * clock (the `expires` field checked against `now`), and Redis's TTL follows it to the
 * millisecond (PEXPIREAT), so an abandoned session needs no sweeper.
 *
 * @example
 * const records = createRedisSessionRecords({ commands: redisCommandsOf(client), prefix: "sess:" });
 * createServerSideSessionStorage({ cookie, records, timeout: 1000, name: "Redis" });
 */
export function createRedisSessionRecords({ commands, prefix }: RedisSessionRecordsSettings): SessionRecords {
  const redisKey = (recordKey: string) => prefix + recordKey;
  // The lifetime given is the record's: the cookie's expiry plus clockTolerance.
  const endOf = (lifetime: SessionLifetime) => String(lifetime.expiresAt);

  const writeNewHash = (key: string, session: SessionSnapshot, lifetime: SessionLifetime) => {
    const set = [sessionHashFields.created, String(lifetime.createdAt)];
    for (const [sessionKey, json] of session.content) set.push(sessionHashFields.value(sessionKey), json);
    for (const sessionKey of session.flashedKeys) set.push(sessionHashFields.flash(sessionKey), flashMark);
    return commands.runScript(writeSessionScript, redisKey(key), ["create", "0", endOf(lifetime), String(set.length / 2), ...set]);
  };

  return {
    async read(key, now) {
      return snapshotOf(await commands.hashFields(redisKey(key)), now);
    },

    async create(key, session, lifetime) {
      await writeNewHash(key, session, lifetime);
    },

    async update(key, changes, lifetime, now) {
      const written = await commands.runScript(writeSessionScript, redisKey(key), ["update", String(now), endOf(lifetime), ...changeArguments(changes)]);
      return Number(written) === 1;
    },

    async delete(key) {
      await commands.deleteKey(redisKey(key));
    },

    // Two commands, never RENAME (the two keys live in different Cluster slots): the new
    // hash first, so that a failure in between never loses the data.
    async move(oldKey, newKey, session, lifetime, signal) {
      await writeNewHash(newKey, session, lifetime);
      // The request gave up waiting (Redis answered late, e.g. from a client's offline queue)
      // and keeps its old cookie: killing the old hash now would log it out for nothing.
      if (signal.aborted) {
        await commands.deleteKey(redisKey(newKey));
        return;
      }
      await commands.deleteKey(redisKey(oldKey));
    },
  };
}

/** The script's arguments after `expires` for an update: the count of fields to set, the pairs, the fields to delete. */
function changeArguments(changes: SessionChanges<string>): string[] {
  const set: string[] = [];
  for (const [sessionKey, json] of changes.set) set.push(sessionHashFields.value(sessionKey), json);
  for (const sessionKey of changes.flashed) set.push(sessionHashFields.flash(sessionKey), flashMark);
  const deleted: string[] = [];
  for (const sessionKey of changes.unset) deleted.push(sessionHashFields.value(sessionKey), sessionHashFields.flash(sessionKey));
  for (const sessionKey of changes.unflashed) deleted.push(sessionHashFields.flash(sessionKey));
  return [String(set.length / 2), ...set, ...deleted];
}

/** The session a hash holds, if it holds one that has not expired at `now`. */
function snapshotOf(fields: Iterable<[string, string]>, now: number): SessionSnapshot | undefined {
  const content = new Map<string, string>();
  const flashedKeys = new Set<string>();
  let expires = Number.NaN;
  for (const [field, value] of fields) {
    if (field.startsWith(valuePrefix)) content.set(field.slice(valuePrefix.length), value);
    else if (field.startsWith(flashPrefix)) flashedKeys.add(field.slice(flashPrefix.length));
    else if (field === sessionHashFields.expires) expires = Number(value);
  }
  // No expiry (an empty reply: no such key) or one already past by the app's clock: no session.
  if (!(expires > now)) return undefined;
  return { content, flashedKeys };
}
