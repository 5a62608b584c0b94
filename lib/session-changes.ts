import type { StoredSession } from "./session-storage.js";

/**
 * What one request changed in a session, relative to the snapshot its storage
 * handed out. Server-side storages write only this, so two concurrent requests
 * that change different keys both keep their change.
 */
export type SessionChanges<Value> = {
  set: Map<string, Value>;
  unset: string[];
  flashed: string[];
  unflashed: string[];
};

/** A copy of the session's maps (values by reference), to diff against at commit. */
export function snapshotOf<Value>(session: StoredSession<Value>): StoredSession<Value> {
  return { content: new Map(session.content), flashedKeys: new Set(session.flashedKeys) };
}

export function changesBetween<Value>(before: StoredSession<Value>, after: StoredSession<Value>): SessionChanges<Value> {
  const set = new Map<string, Value>();
  for (const [key, value] of after.content) {
    // Identity, not deep equality: a value replaced by an equal copy is written, which is harmless.
    if (!before.content.has(key) || before.content.get(key) !== value) set.set(key, value);
  }
  return {
    set,
    unset: [...before.content.keys()].filter((key) => !after.content.has(key)),
    flashed: [...after.flashedKeys].filter((key) => !before.flashedKeys.has(key)),
    unflashed: [...before.flashedKeys].filter((key) => !after.flashedKeys.has(key)),
  };
}

/** Applies `changes` to a stored session in place. */
export function applyChanges<Value>(target: StoredSession<Value>, changes: SessionChanges<Value>): void {
  for (const [key, value] of changes.set) target.content.set(key, value);
  for (const key of changes.unset) target.content.delete(key);
  for (const key of changes.flashed) target.flashedKeys.add(key);
  for (const key of changes.unflashed) target.flashedKeys.delete(key);
}

export function emptySession<Value>(): StoredSession<Value> {
  return { content: new Map(), flashedKeys: new Set() };
}
