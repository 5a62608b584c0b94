import { randomBytes } from "node:crypto";
import { resolveCookieOptions, type CookieOptions } from "../cookie/cookie-options.js";
import { refuseUnknownOptions, SessionConfigError } from "../errors.js";
import { applyChanges, changesBetween, snapshotOf } from "../session-changes.js";
import { createSessionExpiry, type Clock, type SessionExpiry } from "../session-expiry.js";
import {
  emptySession,
  sessionGone,
  synchronousSessionMethods,
  type SessionGone,
  type SessionLifetime,
  type StoredSession,
} from "../session-storage.js";
import { withEncryptedCookies, type EncryptedCookieStorage } from "../with-encrypted-cookies.js";

/**
 * Options of `createMemorySessionStorage`.
 *
 * @example
 * const options: MemorySessionStorageOptions = { cookie: { name: "sid", secret }, maxSessions: 50_000 };
 */
export type MemorySessionStorageOptions = {
  /** The session cookie's settings: `name` and `secret` are required (see `CookieOptions`). */
  cookie: CookieOptions;
  /** New session ids. Default: 256 random bits from `crypto.randomBytes`, base64url. */
  generateId?: () => string;
  /** Live sessions kept at most; past it the least recently used is evicted. Default `10000`. */
  maxSessions?: number;
  /** ms since the epoch; default `Date.now`. For tests that move time forward. */
  clock?: Clock;
};

/**
 * What the memory storage carries from reading to committing.
 *
 * @example
 * const [session, metadata] = await storage.fromHeader(req.headers.cookie);
 * metadata?.inner.id; // the session id, or undefined for a new session
 */
export type MemorySessionMetadata = {
  /** The session's id; `undefined` until a new session is first stored. */
  id: string | undefined;
  /**
   * The session as handed out, to commit only what the request changed. A record's maps
   * are never changed in place (a commit replaces them), so this is the record's own maps,
   * not a copy.
   */
  snapshot: StoredSession<unknown>;
};

/**
 * A memory storage: sessions in this process, an encrypted id in the cookie.
 *
 * @example
 * const storage: MemorySessionStorage = createMemorySessionStorage({ cookie: { name: "sid", secret } });
 * console.log(`${storage.size} live sessions`);
 */
export type MemorySessionStorage = EncryptedCookieStorage<unknown, MemorySessionMetadata> & {
  /** How many sessions are held right now. */
  readonly size: number;
};

/** A stored session. Its `content` and `flashedKeys` are replaced on commit, never changed in place. */
type MemoryRecord = StoredSession<unknown> & { createdAt: number; expiresAt: number };

const defaultMaxSessions = 10_000;
const defaultIdPattern = /^[A-Za-z0-9_-]{43}$/;
const maxCustomIdLength = 512;
const knownOptions = new Set(["cookie", "generateId", "maxSessions", "clock"]);

/**
 * Keeps sessions in process memory; the cookie carries only an encrypted random id.
 * Values are kept by reference (`Value` is `unknown`): a stored object comes back as
 * the same object. Sessions expire with their timeouts, the number held is bounded
 * (expired sessions go first, then the least recently used), and nothing is stored for
 * a request that never writes. One process only: use Redis or PostgreSQL behind several servers.
 *
 * @example
 * app.use(sessions({
 *   storage: createMemorySessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * }));
 */
export function createMemorySessionStorage(options: MemorySessionStorageOptions): MemorySessionStorage {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { cookie }, e.g. createMemorySessionStorage({ cookie: { name, secret } }).");
  }
  refuseUnknownOptions("", options, knownOptions);
  const { cookie, generateId, maxSessions = defaultMaxSessions, clock } = options;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new SessionConfigError("maxSessions", `expected a whole number of sessions, 1 or more (default ${defaultMaxSessions}); got ${JSON.stringify(maxSessions)}.`);
  }
  if (generateId !== undefined && typeof generateId !== "function") {
    throw new SessionConfigError("generateId", "expected a function that returns a new, unguessable session id.");
  }
  const expiry = createSessionExpiry(resolveCookieOptions(cookie), clock);
  const records = new MemoryRecords(expiry, maxSessions);
  const isWellFormedId = generateId
    ? (id: string) => id.length > 0 && id.length <= maxCustomIdLength
    : (id: string) => defaultIdPattern.test(id);
  const newId = () => {
    // A collision of 256 random bits does not happen; a custom generator might repeat itself.
    for (let attempt = 0; attempt < 10; attempt++) {
      const id = generateId ? generateId() : randomBytes(32).toString("base64url");
      if (typeof id === "string" && isWellFormedId(id) && !records.has(id)) return id;
    }
    throw new SessionConfigError("generateId", "returned 10 ids in a row that were empty, too long or already in use.");
  };

  /** A stored record for `session` under a new id. */
  const storeNew = (session: StoredSession<unknown>, lifetime: SessionLifetime | undefined): string => {
    const id = newId();
    const createdAt = lifetime?.createdAt ?? expiry.now();
    records.add(id, { ...snapshotOf(session), createdAt, expiresAt: lifetime?.expiresAt ?? expiry.expiresAt(createdAt) });
    return id;
  };

  function readSession(id: string | undefined): [StoredSession<unknown>, MemorySessionMetadata] {
    // Ids that are not ours are not even looked up; an unknown id is never adopted.
    const record = id !== undefined && isWellFormedId(id) ? records.get(id) : undefined;
    if (!record) return [emptySession(), { id: undefined, snapshot: emptySession() }];
    // The request gets its own maps; the record's stay as they are, as the snapshot to diff against.
    const { content, flashedKeys } = record;
    return [snapshotOf(record), { id, snapshot: { content, flashedKeys } }];
  }

  function writeSession(session: StoredSession<unknown>, metadata: MemorySessionMetadata, lifetime?: SessionLifetime): string | SessionGone {
    if (metadata.id === undefined) {
      // A new session with nothing in it is not worth a record (nor a cookie).
      if (session.content.size === 0) return sessionGone;
      metadata.id = storeNew(session, lifetime);
      metadata.snapshot = snapshotOf(session);
      return metadata.id;
    }
    const record = records.get(metadata.id);
    // Destroyed, moved or expired since this request read it: writing would bring it back.
    if (!record) return sessionGone;
    // New maps, not the old ones changed: requests still reading the old ones diff against them.
    const updated = snapshotOf(record);
    applyChanges(updated, changesBetween(metadata.snapshot, session));
    record.content = updated.content;
    record.flashedKeys = updated.flashedKeys;
    if (lifetime) record.expiresAt = lifetime.expiresAt;
    metadata.snapshot = snapshotOf(session);
    return metadata.id;
  }

  const storage = withEncryptedCookies<unknown, MemorySessionMetadata>({
    cookie,
    clock,
    storage: {
      ...synchronousSessionMethods(readSession, writeSession),

      // Values are held by reference: an object mutated in place is already the stored one.
      hasChanged: () => false,

      async destroy({ id }) {
        if (id !== undefined) records.delete(id);
      },

      // One step: the data under a new id, the old id gone, with nothing in between to fail.
      async regenerate(session, { id }, lifetime) {
        if (id !== undefined) records.delete(id);
        if (session.content.size === 0) return { header: sessionGone, metadata: { id: undefined, snapshot: emptySession() } };
        const newId = storeNew(session, lifetime);
        return { header: newId, metadata: { id: newId, snapshot: snapshotOf(session) } };
      },
    },
  });

  return Object.defineProperty(storage, "size", { get: () => records.size, enumerable: true }) as MemorySessionStorage;
}

/**
 * Alias of `createMemorySessionStorage`, the name on Remastered's sessions page.
 *
 * @example
 * const storage = MemorySessionStorage({ cookie: { name: "sid", secret } });
 */
export const MemorySessionStorage = createMemorySessionStorage;

/**
 * Sessions by id, in least-recently-used order (a `Map` keeps insertion order, and a
 * read moves the entry to the end). Expired entries go when read, from the front on
 * every insert, and all at once before a live session would be evicted; memory stays
 * bounded without a timer.
 */
class MemoryRecords {
  readonly #records = new Map<string, MemoryRecord>();
  readonly #expiry: SessionExpiry;
  readonly #maxSessions: number;
  /** No record expires before this time (ms): until then a sweep for expired records finds none. */
  #noExpiryBefore = 0;

  constructor(expiry: SessionExpiry, maxSessions: number) {
    this.#expiry = expiry;
    this.#maxSessions = maxSessions;
  }

  get size(): number {
    return this.#records.size;
  }

  has(id: string): boolean {
    return this.#records.has(id);
  }

  get(id: string): MemoryRecord | undefined {
    const record = this.#records.get(id);
    if (!record) return undefined;
    this.#records.delete(id);
    if (this.#isExpired(record)) return undefined;
    this.#records.set(id, record);
    return record;
  }

  add(id: string, record: MemoryRecord): void {
    this.#records.set(id, record);
    this.#dropExpiredFromTheFront();
    if (this.#records.size <= this.#maxSessions) return;
    this.#sweepExpired();
    for (const oldestId of this.#records.keys()) {
      if (this.#records.size <= this.#maxSessions) break;
      this.#records.delete(oldestId);
    }
  }

  delete(id: string): void {
    this.#records.delete(id);
  }

  #dropExpiredFromTheFront(): void {
    for (const [oldestId, oldest] of this.#records) {
      if (!this.#isExpired(oldest)) break;
      this.#records.delete(oldestId);
    }
  }

  /**
   * Drops every expired record, so that a live session is never evicted while an expired
   * one stays. It walks all records, but at most once until the earliest expiry it saw:
   * a flood of new sessions at the bound does not make every insert a full walk.
   */
  #sweepExpired(): void {
    const now = this.#expiry.now();
    if (now < this.#noExpiryBefore) return;
    let earliest = Infinity;
    for (const [id, record] of this.#records) {
      if (this.#isExpired(record)) this.#records.delete(id);
      else earliest = Math.min(earliest, this.#expiry.endsAt(record.createdAt, record.expiresAt));
    }
    this.#noExpiryBefore = earliest;
  }

  #isExpired(record: MemoryRecord): boolean {
    return this.#expiry.isExpired(record.createdAt, record.expiresAt);
  }
}
