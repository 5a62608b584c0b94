import type { MaybePromise } from "./maybe-promise.js";

/**
 * What a storage keeps for one session (the seed's `StoredSession<Value>`).
 * `flashedKeys` lists the keys of `content` that are one-time values.
 */
export type StoredSession<Value> = {
  content: Map<string, Value>;
  flashedKeys: Set<string>;
};

/**
 * Where sessions live (the seed's `SessionStorage<Value, Metadata>`): a cookie,
 * process memory, Redis, a database, or your own.
 *
 * - `fromHeader` (reading phase) gets the raw request header (the whole `Cookie`
 *   header by default) and returns the session plus any `Metadata` the commit
 *   phase needs, such as a session id that application code must not touch.
 * - `toHeader` (commit phase) persists the session and returns the response
 *   header value, e.g. a whole `Set-Cookie` value.
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
/** What `fromHeader` resolves to: the session, and the metadata the commit phase needs. */
export type SessionWithMetadata<Value, Metadata> = [StoredSession<Value>, Metadata] | [StoredSession<Value>];

export interface SessionStorage<Value, Metadata = undefined> {
  fromHeader(header?: string): Promise<SessionWithMetadata<Value, Metadata>>;
  /**
   * Optional (an extension, for speed): `fromHeader` that answers synchronously when it
   * can, and returns a promise only when it must wait (a token to decrypt, a server to
   * ask). The middleware and `withEncryptedCookies` prefer it: a request whose session is
   * found at once is handed on in the same tick. It must agree with `fromHeader`.
   */
  fromHeaderMaybeSync?(header?: string): MaybePromise<SessionWithMetadata<Value, Metadata>>;
  /**
   * Optional (an extension, for speed): `toHeader` that answers synchronously when it
   * can (nothing to wait for, e.g. a cookie to seal, a map to update), and returns a
   * promise only when it must wait. The middleware then sends the response without
   * holding it back. It must do exactly what `toHeader` does.
   */
  toHeaderMaybeSync?(session: StoredSession<Value>, metadata: Metadata): MaybePromise<string>;
  toHeader(session: StoredSession<Value>, metadata: Metadata): Promise<string>;
  /**
   * Optional (an extension to the seed's interface): whether a session that the
   * application did not change must still be committed on this response, e.g. because
   * its cookie was read under a retired key. Storages without it are committed only
   * when the session changed.
   */
  needsCommit?(metadata: Metadata): boolean;
  /**
   * Optional (an extension): whether the session's values differ from what this storage
   * last read or wrote, values mutated in place included. Without it, the store compares
   * a JSON snapshot taken at load. A storage that keeps values by reference can answer
   * `false`: a mutated object is already the stored one.
   */
  hasChanged?(session: StoredSession<Value>, metadata: Metadata): boolean;
}

/** The `Value` type of a storage. */
export type ValueOf<Storage> = Storage extends SessionStorage<infer Value, any> ? Value : never; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Reads through the storage's fastest way: `fromHeaderMaybeSync` when it offers one, else `fromHeader`. */
export function readSessionFrom<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  header: string | undefined,
): MaybePromise<SessionWithMetadata<Value, Metadata>> {
  return storage.fromHeaderMaybeSync ? storage.fromHeaderMaybeSync(header) : storage.fromHeader(header);
}

/** Writes through the storage's fastest way: `toHeaderMaybeSync` when it offers one, else `toHeader`. */
export function writeSessionTo<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  session: StoredSession<Value>,
  metadata: Metadata,
): MaybePromise<string> {
  return storage.toHeaderMaybeSync ? storage.toHeaderMaybeSync(session, metadata) : storage.toHeader(session, metadata);
}

/**
 * The reading and writing methods of a storage that never waits, from one read and one
 * write function: the seed's async pair, and the synchronous extensions the middleware prefers.
 */
export function synchronousSessionMethods<Value, Metadata>(
  read: (header: string | undefined) => SessionWithMetadata<Value, Metadata>,
  write: (session: StoredSession<Value>, metadata: Metadata) => string,
): Pick<Required<SessionStorage<Value, Metadata>>, "fromHeader" | "fromHeaderMaybeSync" | "toHeader" | "toHeaderMaybeSync"> {
  return {
    fromHeaderMaybeSync: read,
    async fromHeader(header) {
      return read(header);
    },
    toHeaderMaybeSync: write,
    async toHeader(session, metadata) {
      return write(session, metadata);
    },
  };
}
