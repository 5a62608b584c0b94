import type { MaybePromise } from "./maybe-promise.js";

/**
 * What a storage keeps for one session (`StoredSession<Value>` of Remastered's sessions API).
 * `flashedKeys` lists the keys of `content` that are one-time values.
 *
 * @example
 * const empty: StoredSession<Serializable> = { content: new Map(), flashedKeys: new Set() };
 * const withFlash: StoredSession<Serializable> = { content: new Map([["message", "Saved"]]), flashedKeys: new Set(["message"]) };
 */
export type StoredSession<Value> = {
  /** The session's values by key, flashes included. */
  content: Map<string, Value>;
  /** Keys of `content` that hold a flash not yet shown. */
  flashedKeys: Set<string>;
};

/**
 * What `fromHeader` resolves to: the session, and the metadata the commit phase needs.
 *
 * @example
 * async fromHeader(id) {
 *   const row = id ? await db.find(id) : undefined;
 *   return row ? [row.session, { id }] : [{ content: new Map(), flashedKeys: new Set() }, { id: undefined }];
 * }
 */
export type SessionWithMetadata<Value, Metadata> = [StoredSession<Value>, Metadata] | [StoredSession<Value>];

/**
 * When a session started and when it expires, in ms since the epoch. `withEncryptedCookies`
 * decides both (from the cookie, the timeouts and the renewal rules) and hands them to the
 * storage it wraps, so that a server-side record expires with its cookie (a Redis TTL, a
 * row's `expires_at`).
 *
 * @example
 * async toHeader(session, metadata, lifetime) {
 *   await db.save(metadata.id, session, new Date(lifetime!.expiresAt)); // the row expires with its cookie
 *   return metadata.id;
 * }
 */
export type SessionLifetime = {
  /** When the session started, in ms since the epoch: `absoluteTimeout` counts from here. */
  readonly createdAt: number;
  /** When the session's cookie expires, in ms since the epoch: a record should expire then too. */
  readonly expiresAt: number;
};

/**
 * The answer of a commit when the session no longer exists: another request destroyed it,
 * moved it with `regenerate()`, or it expired while this request ran. Nothing is written,
 * and the response carries no session header for it: writing would undo a logout, and
 * re-sending the old cookie would undo a login.
 *
 * @example
 * async toHeader(session, metadata) {
 *   if (metadata.id && !(await db.exists(metadata.id))) return sessionGone; // logged out elsewhere: write nothing
 *   await db.save(metadata.id, session);
 *   return metadata.id;
 * }
 */
export const sessionGone: unique symbol = Symbol.for("remastered-sessions.session-gone");
/**
 * The type of `sessionGone`, for a storage's `toHeader` return type: `Promise<string | SessionGone>`.
 *
 * @example
 * async function write(session: StoredSession<Serializable>, id: string): Promise<string | SessionGone> {
 *   return (await db.update(id, session)) ? id : sessionGone;
 * }
 */
export type SessionGone = typeof sessionGone;

/**
 * What the optional `regenerate` of a storage resolves to: the new identity.
 *
 * @example
 * async regenerate(session, { id }) {
 *   const newId = randomBytes(32).toString("base64url");
 *   await db.transaction(async (t) => { await t.delete(id); await t.insert(newId, session); });
 *   return { header: newId, metadata: { id: newId } };
 * }
 */
export type RegeneratedSession<Metadata> = {
  /**
   * The header of the new identity (a Set-Cookie value, or the plain value to seal), or
   * `sessionGone` when there was nothing to move (an empty session is not stored).
   */
  header: string | SessionGone;
  /** The metadata of the new identity, for later commits of the same request. */
  metadata: Metadata;
};

/**
 * Where sessions live (`SessionStorage<Value, Metadata>` of Remastered's sessions API): a cookie,
 * process memory, Redis, a database, or your own. Two methods make a storage:
 *
 * - `fromHeader` (reading phase) gets the raw request header (the whole `Cookie`
 *   header by default) and returns the session plus any `Metadata` the commit
 *   phase needs, such as a session id that application code must not touch.
 * - `toHeader` (commit phase) persists the session and returns the response
 *   header value, e.g. a whole `Set-Cookie` value, or `sessionGone`.
 *
 * Behind `withEncryptedCookies`, the header is a plain string (an id, some JSON) and both
 * methods also receive the session's `lifetime`.
 *
 * Everything else is optional: a few capabilities, each with what a storage without it gets.
 *
 * | capability | why | without it |
 * | --- | --- | --- |
 * | `destroy` | `session.destroy()` and `regenerate()` forget the old identity | the session is written empty |
 * | `regenerate` | moves the data to a new identity in one step | write the new identity, then forget the old |
 * | `hasChanged` | sees values changed in place, cheaply | the store compares JSON snapshots |
 * | `needsCommit` | commits an unchanged session (a key to rotate, a lifetime to renew) | only changes are committed |
 * | `fromHeaderMaybeSync`, `toHeaderMaybeSync` | answer in the same tick when nothing must be waited for | every read and write waits a tick |
 *
 * @example
 * // A do-it-yourself storage: the whole session as plain JSON in a header (demo only: not encrypted).
 * const jsonHeaderStorage: SessionStorage<Serializable> = {
 *   async fromHeader(header) {
 *     const entries: [string, Serializable][] = header ? JSON.parse(header) : [];
 *     return [{ content: new Map(entries), flashedKeys: new Set() }];
 *   },
 *   async toHeader(session) {
 *     return JSON.stringify([...session.content]);
 *   },
 * };
 */
export interface SessionStorage<Value, Metadata = undefined> {
  /**
   * Reading phase: the session the request `header` refers to (an empty one for no header
   * or one that does not read), and the metadata its commits need.
   */
  fromHeader(header?: string, lifetime?: SessionLifetime): Promise<SessionWithMetadata<Value, Metadata>>;
  /**
   * Commit phase: persists the session and resolves to the response header value, or to
   * `sessionGone` when the session no longer exists (then nothing may be written).
   */
  toHeader(session: StoredSession<Value>, metadata: Metadata, lifetime?: SessionLifetime): Promise<string | SessionGone>;

  /**
   * Optional (lifecycle): forgets the session, for `session.destroy()` and the old identity
   * of `regenerate()`, and resolves to the header that ends it on the client (a cookie
   * deletion), if any. Without it the session is written empty.
   *
   * @example
   * async destroy(id) { await db.delete(id); }
   */
  destroy?(metadata: Metadata, lifetime?: SessionLifetime): Promise<string | SessionGone | void>;
  /**
   * Optional (atomic identity change): moves the session's data to a new identity and makes
   * the old one dead in one step, e.g. one SQL transaction. Without it, `regenerate()`
   * writes the data under a fresh identity (`fromHeader()` with no header), then forgets
   * the old one with `destroy`, so a failure in between never loses the data.
   *
   * @example
   * async regenerate(session, { id }, lifetime) {
   *   const newId = randomBytes(32).toString("base64url");
   *   await db.transaction(async (tx) => { await tx.delete(id); await tx.insert(newId, session, lifetime); });
   *   return { header: newId, metadata: { id: newId } };
   * }
   */
  regenerate?(session: StoredSession<Value>, metadata: Metadata, lifetime?: SessionLifetime): Promise<RegeneratedSession<Metadata>>;
  /**
   * Optional (change detection): whether the session's values differ from what this
   * storage last read or wrote, values mutated in place included. Without it, the store
   * compares a JSON snapshot of the whole session. A storage that keeps values by
   * reference can answer `false`: a mutated object is already the stored one. Storages
   * that keep JSON compare key by key with `sessionChangesSince`.
   */
  hasChanged?(session: StoredSession<Value>, metadata: Metadata): boolean;
  /**
   * Optional (commit reasons of its own): whether a session the application did not change
   * must still be committed, e.g. because its cookie was read under a retired key or its
   * lifetime is due for renewal. Without it, only changes are committed.
   */
  needsCommit?(metadata: Metadata): boolean;
  /**
   * Optional (speed): `fromHeader` that answers synchronously when it can, and returns a
   * promise only when it must wait (a token to decrypt, a server to ask). A request whose
   * session is found at once is handed on in the same tick. It must agree with `fromHeader`.
   */
  fromHeaderMaybeSync?(header?: string, lifetime?: SessionLifetime): MaybePromise<SessionWithMetadata<Value, Metadata>>;
  /**
   * Optional (speed): `toHeader` that answers synchronously when it can (a cookie to seal, a
   * map to update). The response then goes out without being held. It must do exactly
   * what `toHeader` does.
   */
  toHeaderMaybeSync?(session: StoredSession<Value>, metadata: Metadata, lifetime?: SessionLifetime): MaybePromise<string | SessionGone>;
}

/**
 * The `Value` type of a storage.
 *
 * @example
 * const storage = createCookieSessionStorage({ cookie });
 * type Value = ValueOf<typeof storage>; // Serializable
 */
export type ValueOf<Storage> = Storage extends SessionStorage<infer Value, any> ? Value : never; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Reads through the storage's fastest way: `fromHeaderMaybeSync` when it offers one, else `fromHeader`. */
export function readSessionFrom<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  header: string | undefined,
  lifetime?: SessionLifetime,
): MaybePromise<SessionWithMetadata<Value, Metadata>> {
  return storage.fromHeaderMaybeSync ? storage.fromHeaderMaybeSync(header, lifetime) : storage.fromHeader(header, lifetime);
}

/** Writes through the storage's fastest way: `toHeaderMaybeSync` when it offers one, else `toHeader`. */
export function writeSessionTo<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  session: StoredSession<Value>,
  metadata: Metadata,
  lifetime?: SessionLifetime,
): MaybePromise<string | SessionGone> {
  return storage.toHeaderMaybeSync
    ? storage.toHeaderMaybeSync(session, metadata, lifetime)
    : storage.toHeader(session, metadata, lifetime);
}

/** Forgets a session: the storage's `destroy`, or, without one, the session written empty. */
export function forgetSessionIn<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  metadata: Metadata,
  lifetime?: SessionLifetime,
): Promise<string | SessionGone | void> {
  return storage.destroy ? storage.destroy(metadata, lifetime) : storage.toHeader(emptySession(), metadata, lifetime);
}

/**
 * Moves a session to a new identity: the storage's `regenerate`, or, without one, the
 * data written under a fresh identity first and the old one forgotten after, so that a
 * failure in between never loses the data.
 */
export async function regenerateIn<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  session: StoredSession<Value>,
  metadata: Metadata,
  lifetime?: SessionLifetime,
  oldLifetime?: SessionLifetime,
): Promise<RegeneratedSession<Metadata>> {
  if (storage.regenerate) return storage.regenerate(session, metadata, lifetime);
  const [, freshMetadata] = await readSessionFrom(storage, undefined);
  const header = await writeSessionTo(storage, session, freshMetadata as Metadata, lifetime);
  await forgetSessionIn(storage, metadata, oldLifetime);
  return { header, metadata: freshMetadata as Metadata };
}

/** A new, empty session. */
export function emptySession<Value>(): StoredSession<Value> {
  return { content: new Map(), flashedKeys: new Set() };
}

/**
 * The reading and writing methods of a storage that never waits, from one read and one
 * write function: the asynchronous pair of the interface, and the synchronous extensions the middleware prefers.
 */
export function synchronousSessionMethods<Value, Metadata>(
  read: (header: string | undefined, lifetime?: SessionLifetime) => SessionWithMetadata<Value, Metadata>,
  write: (session: StoredSession<Value>, metadata: Metadata, lifetime?: SessionLifetime) => string | SessionGone,
): Pick<Required<SessionStorage<Value, Metadata>>, "fromHeader" | "fromHeaderMaybeSync" | "toHeader" | "toHeaderMaybeSync"> {
  return {
    fromHeaderMaybeSync: read,
    async fromHeader(header, lifetime) {
      return read(header, lifetime);
    },
    toHeaderMaybeSync: write,
    async toHeader(session, metadata, lifetime) {
      return write(session, metadata, lifetime);
    },
  };
}
