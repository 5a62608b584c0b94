import { serializeSessionValue, type Serializable } from "./serializable.js";
import type { StoredSession } from "./session-storage.js";

/**
 * What one request changed in a session, relative to what its storage handed out.
 * Server-side storages write only this, so two concurrent requests that change
 * different keys both keep their change.
 *
 * @example
 * const changes: SessionChanges<string> = sessionChangesSince(metadata.snapshot, session);
 * for (const [key, json] of changes.set) await db.setField(metadata.id, key, json);
 * for (const key of changes.unset) await db.deleteField(metadata.id, key);
 */
export type SessionChanges<Value> = {
  /** Keys set or changed, with their new value. */
  set: Map<string, Value>;
  /** Keys removed. */
  unset: string[];
  /** Keys that became flashes. */
  flashed: string[];
  /** Keys that stopped being flashes (shown, set again, or removed). */
  unflashed: string[];
};

/**
 * A session as a storage that keeps JSON last read or wrote it: each key's value as JSON
 * text. A storage keeps it as its metadata, hands the parsed session to the request, and
 * at commit writes only `sessionChangesSince(snapshot, session)`.
 *
 * @example
 * const snapshot: SessionSnapshot = { content: new Map([["user", '{"id":1}']]), flashedKeys: new Set() };
 * sessionFromSnapshot(snapshot).content.get("user"); // { id: 1 }
 */
export type SessionSnapshot = StoredSession<string>;

/**
 * Whether `changes` holds nothing to write.
 *
 * @example
 * const changes = sessionChangesSince(metadata.snapshot, session);
 * if (hasNoChanges(changes)) return metadata.id; // nothing to write
 */
export function hasNoChanges(changes: SessionChanges<unknown>): boolean {
  return changes.set.size === 0 && changes.unset.length === 0 && changes.flashed.length === 0 && changes.unflashed.length === 0;
}

/**
 * Applies `changes` in place: to the stored record after a write, or to the snapshot it was computed from.
 *
 * @example
 * const changes = sessionChangesSince(metadata.snapshot, session);
 * applyChanges(row.snapshot, changes);      // write them to your record
 * applyChanges(metadata.snapshot, changes); // and compare later commits against what was written
 */
export function applyChanges<Value>(target: StoredSession<Value>, changes: SessionChanges<Value>): void {
  for (const [key, value] of changes.set) target.content.set(key, value);
  for (const key of changes.unset) target.content.delete(key);
  for (const key of changes.flashed) target.flashedKeys.add(key);
  for (const key of changes.unflashed) target.flashedKeys.delete(key);
}

/**
 * The session a snapshot describes, for the request: each value parsed from its JSON. A
 * value that does not parse (written by something else) reads as absent, and the next
 * commit removes it.
 *
 * @example
 * const snapshot = { content: new Map(Object.entries(await redis.hgetall(key))), flashedKeys: new Set(flashed) };
 * return [sessionFromSnapshot(snapshot), { id, snapshot }];
 */
export function sessionFromSnapshot(snapshot: SessionSnapshot): StoredSession<Serializable> {
  const content = new Map<string, Serializable>();
  for (const [key, json] of snapshot.content) {
    try {
      content.set(key, JSON.parse(json) as Serializable);
    } catch {
      // Left out: the snapshot still has it, so the next commit's changes unset it.
    }
  }
  const flashedKeys = new Set([...snapshot.flashedKeys].filter((key) => content.has(key)));
  return { content, flashedKeys };
}

/**
 * What `session` changed since `snapshot`, each new value as JSON. Values are compared by
 * their JSON, so an object changed in place (`session.get("cart").items.push(item)`) is
 * written, and one replaced by an equal copy is not. Each value is checked first
 * (`SessionValueNotSerializableError` names the key).
 *
 * @example
 * const changes = sessionChangesSince(metadata.snapshot, session);
 * if (!hasNoChanges(changes)) await db.update(metadata.id, changes);
 * applyChanges(metadata.snapshot, changes); // later commits of this request compare against what was written
 */
export function sessionChangesSince(snapshot: SessionSnapshot, session: StoredSession<unknown>): SessionChanges<string> {
  const set = new Map<string, string>();
  for (const [key, value] of session.content) {
    const json = serializeSessionValue(key, value);
    if (snapshot.content.get(key) !== json) set.set(key, json);
  }
  return { set, ...keyChangesBetween(snapshot, session) };
}

/**
 * Whether `session` differs from `snapshot`: `sessionChangesSince`, stopping at the first difference.
 *
 * @example
 * const storage = withEncryptedCookies({ cookie, storage: {
 *   fromHeader, toHeader,
 *   hasChanged: (session, metadata) => hasChangedSince(metadata.snapshot, session),
 * } });
 */
export function hasChangedSince(snapshot: SessionSnapshot, session: StoredSession<unknown>): boolean {
  if (snapshot.content.size !== session.content.size || !haveSameKeys(snapshot.flashedKeys, session.flashedKeys)) return true;
  for (const [key, value] of session.content) {
    const json = snapshot.content.get(key);
    // Compared as JSON, without the serialisability check: a value that cannot be written
    // is reported by the commit that tries to write it.
    if (json === undefined || safeStringify(value) !== json) return true;
  }
  return false;
}

/**
 * What `session` changed since `snapshot`, for a storage that keeps values by reference
 * (the memory storage): a value is changed when it is another value, and an object
 * changed in place is already the stored one.
 */
export function changesBetween<Value>(snapshot: StoredSession<Value>, session: StoredSession<Value>): SessionChanges<Value> {
  const set = new Map<string, Value>();
  for (const [key, value] of session.content) {
    if (!snapshot.content.has(key) || snapshot.content.get(key) !== value) set.set(key, value);
  }
  return { set, ...keyChangesBetween(snapshot, session) };
}

/** A copy of the session's maps (values by reference), to diff against at commit. */
export function snapshotOf<Value>(session: StoredSession<Value>): StoredSession<Value> {
  return { content: new Map(session.content), flashedKeys: new Set(session.flashedKeys) };
}

function keyChangesBetween(before: StoredSession<unknown>, after: StoredSession<unknown>): Omit<SessionChanges<unknown>, "set"> {
  return {
    unset: [...before.content.keys()].filter((key) => !after.content.has(key)),
    flashed: [...after.flashedKeys].filter((key) => !before.flashedKeys.has(key)),
    unflashed: [...before.flashedKeys].filter((key) => !after.flashedKeys.has(key)),
  };
}

function haveSameKeys(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const key of a) if (!b.has(key)) return false;
  return true;
}

function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
