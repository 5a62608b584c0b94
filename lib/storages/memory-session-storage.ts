import { randomBytes } from "node:crypto";
import { resolveCookieOptions, type CookieOptions } from "../cookie/cookie-options.js";
import { SessionConfigError } from "../errors.js";
import { applyChanges, changesBetween, emptySession, snapshotOf } from "../session-changes.js";
import { createSessionLifetime, type Clock, type SessionLifetime } from "../session-lifetime.js";
import { synchronousSessionMethods, type StoredSession } from "../session-storage.js";
import { withEncryptedCookies, type EncryptedCookieStorage } from "../with-encrypted-cookies.js";

export type MemorySessionStorageOptions = {
  cookie: CookieOptions;
  /** New session ids. Default: 256 random bits from `crypto.randomBytes`, base64url. */
  generateId?: () => string;
  /** Live sessions kept at most; past it the least recently used is evicted. Default `10000`. */
  maxSessions?: number;
  /** ms since the epoch; default `Date.now`. For tests that move time forward. */
  clock?: Clock;
};

/** What the memory storage carries from reading to committing. */
export type MemorySessionMetadata = {
  id: string;
  /** The session was in memory when the request read it (so it must not be recreated if it vanished). */
  wasStored: boolean;
  /**
   * The session as handed out, to commit only what the request changed. A record's maps
   * are never changed in place (a commit replaces them), so this is the record's own maps,
   * not a copy.
   */
  snapshot: StoredSession<unknown>;
};

/** A memory storage: sessions in this process, an encrypted id in the cookie. */
export type MemorySessionStorage = EncryptedCookieStorage<unknown, MemorySessionMetadata> & {
  /** How many sessions are held right now. */
  readonly size: number;
};

/** A stored session. Its `content` and `flashedKeys` are replaced on commit, never changed in place. */
type MemoryRecord = StoredSession<unknown> & { createdAt: number; expiresAt: number };

const defaultMaxSessions = 10_000;
const defaultIdPattern = /^[A-Za-z0-9_-]{43}$/;
const maxCustomIdLength = 512;

/**
 * Keeps sessions in process memory; the cookie carries only an encrypted random id.
 * Values are kept by reference (`Value` is `unknown`): a stored object comes back as
 * the same object. Sessions expire with their timeouts, the number held is bounded
 * (least recently used evicted first), and nothing is stored for a request that
 * never writes. One process only: use Redis or PostgreSQL behind several servers.
 *
 * @example
 * app.use(sessions({
 *   storage: createMemorySessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * }));
 */
export function createMemorySessionStorage({
  cookie,
  generateId,
  maxSessions = defaultMaxSessions,
  clock,
}: MemorySessionStorageOptions): MemorySessionStorage {
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new SessionConfigError("maxSessions", `expected a whole number of sessions, 1 or more (default ${defaultMaxSessions}); got ${JSON.stringify(maxSessions)}.`);
  }
  if (generateId !== undefined && typeof generateId !== "function") {
    throw new SessionConfigError("generateId", "expected a function that returns a new, unguessable session id.");
  }
  const lifetime = createSessionLifetime(resolveCookieOptions(cookie), clock);
  const records = new MemoryRecords(lifetime, maxSessions);
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

  function readSession(id: string | undefined): [StoredSession<unknown>, MemorySessionMetadata] {
    // Ids that are not ours are not even looked up; an unknown id is never adopted.
    const record = id !== undefined && isWellFormedId(id) ? records.get(id) : undefined;
    if (id === undefined || !record) return [emptySession(), { id: newId(), wasStored: false, snapshot: emptySession() }];
    // The request gets its own maps; the record's stay as they are, as the snapshot to diff against.
    const { content, flashedKeys } = record;
    return [snapshotOf(record), { id, wasStored: true, snapshot: { content, flashedKeys } }];
  }

  function writeSession(session: StoredSession<unknown>, metadata: MemorySessionMetadata): string {
    let record = records.get(metadata.id);
    if (!record) {
      // Destroyed or expired since this request read it: writing would bring it back.
      if (metadata.wasStored) return metadata.id;
      const createdAt = lifetime.now();
      record = { ...emptySession(), createdAt, expiresAt: lifetime.expiresAt(createdAt) };
      records.add(metadata.id, record);
      metadata.wasStored = true;
    }
    // New maps, not the old ones changed: requests still reading the old ones diff against them.
    const updated = snapshotOf(record);
    applyChanges(updated, changesBetween(metadata.snapshot, session));
    record.content = updated.content;
    record.flashedKeys = updated.flashedKeys;
    record.expiresAt = lifetime.expiresAt(record.createdAt);
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

      async destroy(metadata) {
        records.delete(metadata.id);
      },
    },
  });

  return Object.defineProperty(storage, "size", { get: () => records.size, enumerable: true }) as MemorySessionStorage;
}

/** Alias of `createMemorySessionStorage`, the name used in the seed's pages. */
export const MemorySessionStorage = createMemorySessionStorage;

/**
 * Sessions by id, in least-recently-used order (a `Map` keeps insertion order, and a
 * read moves the entry to the end). Expired entries go when read, and from the front
 * on every insert, so memory stays bounded without a timer.
 */
class MemoryRecords {
  readonly #records = new Map<string, MemoryRecord>();
  readonly #lifetime: SessionLifetime;
  readonly #maxSessions: number;

  constructor(lifetime: SessionLifetime, maxSessions: number) {
    this.#lifetime = lifetime;
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
    for (const [oldestId, oldest] of this.#records) {
      if (this.#records.size <= this.#maxSessions && !this.#isExpired(oldest)) break;
      this.#records.delete(oldestId);
    }
  }

  delete(id: string): void {
    this.#records.delete(id);
  }

  #isExpired(record: MemoryRecord): boolean {
    return this.#lifetime.isExpired(record.createdAt, record.expiresAt);
  }
}
