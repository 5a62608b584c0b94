import { createHash, randomBytes } from "node:crypto";
import { resolveCookieOptions, type CookieOptions } from "../cookie/cookie-options.js";
import { SessionError, SessionStorageError, type SessionStorageOperation } from "../errors.js";
import type { Serializable } from "../serializable.js";
import {
  applyChanges,
  hasChangedSince,
  hasNoChanges,
  sessionChangesSince,
  sessionFromSnapshot,
  type SessionChanges,
  type SessionSnapshot,
} from "../session-changes.js";
import type { Clock } from "../session-expiry.js";
import { emptySession, sessionGone, type SessionGone, type SessionLifetime, type StoredSession } from "../session-storage.js";
import { abortableWithinTimeout, type GiveUpSignal } from "../storage-timeout.js";
import { withEncryptedCookies, type EncryptedCookieStorage } from "../with-encrypted-cookies.js";

/**
 * The records of a server-side storage, one per session, under a key that is a hash of
 * the session id: what Redis and PostgreSQL each implement. Every method may fail; the
 * storage bounds each call with its timeout and reports failures as `SessionStorageError`.
 *
 * Each call gets a `signal`, aborted when the storage gives up on it (its timeout): the
 * request has already failed, so the call should stop (cancel a statement, drop a queued
 * command) and undo a step it can no longer finish. The `lifetime` a record is given ends
 * when its cookie stops being accepted: the cookie's expiry plus `clockTolerance`.
 */
export type SessionRecords = {
  /** The record under `key` as it is stored (values as JSON), if it exists and has not expired at `now`. */
  read(key: string, now: number, signal: GiveUpSignal): Promise<SessionSnapshot | undefined>;
  /** Stores a new record (its key is new and random: nothing is under it). */
  create(key: string, session: SessionSnapshot, lifetime: SessionLifetime, signal: GiveUpSignal): Promise<void>;
  /**
   * Applies `changes` (which may be empty: a renewal) and the new expiry, in one atomic step,
   * only if the record still exists and has not expired at `now`. False when it is gone.
   */
  update(key: string, changes: SessionChanges<string>, lifetime: SessionLifetime, now: number, signal: GiveUpSignal): Promise<boolean>;
  delete(key: string, signal: GiveUpSignal): Promise<void>;
  /** Stores `session` under `newKey` and deletes `oldKey`, as atomically as the server allows. */
  move(oldKey: string, newKey: string, session: SessionSnapshot, lifetime: SessionLifetime, signal: GiveUpSignal): Promise<void>;
};

/** What a server-side storage carries from reading to committing. */
export type ServerSideSessionMetadata = {
  /** The session id the cookie carries; `undefined` until a new session is first stored. */
  id: string | undefined;
  /** The record as read or last written: commits write only what differs from it. */
  snapshot: SessionSnapshot;
  /** The record's expiry as read or last written (ms): a commit that keeps it writes no new one. */
  expiresAt: number | undefined;
};

export type ServerSideStorageSettings = {
  cookie: CookieOptions;
  records: SessionRecords;
  /** Milliseconds each call to the server may take. */
  timeout: number;
  /** Names the storage in errors, e.g. "Redis". */
  name: string;
  clock?: Clock;
};

/** 256 random bits, base64url: what the cookie carries, encrypted. */
const idPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * A storage that keeps each session in a server's record and only an encrypted random id
 * in the cookie, on top of `records`: the shared part of the Redis and PostgreSQL storages.
 *
 * - The record's key is a SHA-256 of the id, so a leaked dump of the server holds no usable ids.
 * - A commit writes only what changed, key by key, compared as JSON (values changed in place
 *   included), and nothing when nothing changed; a renewal writes only the new expiry.
 * - A write is guarded: a record destroyed, moved or expired while the request ran is never
 *   written back (`sessionGone`: no cookie either).
 * - An empty new session is not stored; an unknown id is never adopted.
 * - Every call is bounded by `timeout`; failures are `SessionStorageError`s.
 */
export function createServerSideSessionStorage({
  cookie,
  records,
  timeout,
  name,
  clock = Date.now,
}: ServerSideStorageSettings): EncryptedCookieStorage<Serializable, ServerSideSessionMetadata> {
  /** Runs one call to the server within the timeout; its failures become SessionStorageErrors naming the storage. */
  const call = async <T>(operation: SessionStorageOperation, run: (signal: GiveUpSignal) => Promise<T>): Promise<T> => {
    try {
      return await abortableWithinTimeout(run, timeout, operation, name);
    } catch (error) {
      if (error instanceof SessionError) throw error;
      throw new SessionStorageError(operation, `${name} failed to ${operation} the session: ${messageOf(error)}`, { cause: error });
    }
  };

  const toleranceMs = resolveCookieOptions(cookie).clockTolerance * 1000;
  /** A record lives as long as its cookie is accepted: the cookie's expiry plus the clock tolerance. */
  const recordLifetime = ({ createdAt, expiresAt }: SessionLifetime): SessionLifetime => ({ createdAt, expiresAt: expiresAt + toleranceMs });

  const newSessionMetadata = (): ServerSideSessionMetadata => ({ id: undefined, snapshot: emptySession(), expiresAt: undefined });

  /** Stores `session` under a new id; returns the id and the snapshot now stored. */
  const snapshotToStore = (session: StoredSession<unknown>): SessionSnapshot => {
    const snapshot = emptySession<string>();
    applyChanges(snapshot, sessionChangesSince(snapshot, session));
    return snapshot;
  };

  return withEncryptedCookies<Serializable, ServerSideSessionMetadata>({
    cookie,
    clock,
    storage: {
      async fromHeader(id, lifetime) {
        // Ids that cannot be ours are never looked up: hostile cookies do not reach the server.
        if (id === undefined || !idPattern.test(id)) return [emptySession(), newSessionMetadata()];
        const snapshot = await call("read", (signal) => records.read(keyOf(id), clock(), signal));
        if (!snapshot) return [emptySession(), newSessionMetadata()];
        // The record was last written with the cookie's expiry: a commit that keeps it writes none.
        return [sessionFromSnapshot(snapshot), { id, snapshot, expiresAt: lifetime?.expiresAt }];
      },

      async toHeader(session, metadata, lifetime): Promise<string | SessionGone> {
        const expiry = lifetime ?? { createdAt: clock(), expiresAt: clock() };
        if (metadata.id === undefined) {
          // A new session with nothing in it is not worth a record (nor a cookie).
          if (session.content.size === 0) return sessionGone;
          const id = newId();
          const snapshot = snapshotToStore(session);
          await call("write", (signal) => records.create(keyOf(id), snapshot, recordLifetime(expiry), signal));
          Object.assign(metadata, { id, snapshot, expiresAt: expiry.expiresAt });
          return id;
        }
        const changes = sessionChangesSince(metadata.snapshot, session);
        // Nothing new and no new expiry: nothing to write, and the client keeps its cookie.
        if (hasNoChanges(changes) && metadata.expiresAt === expiry.expiresAt) return metadata.id;
        const { id, snapshot } = metadata;
        const updated = await call("write", (signal) => records.update(keyOf(id), changes, recordLifetime(expiry), clock(), signal));
        if (!updated) return sessionGone;
        applyChanges(snapshot, changes);
        metadata.expiresAt = expiry.expiresAt;
        return id;
      },

      // Compared key by key as JSON: an object changed in place is seen, one left alone costs one stringify per key.
      hasChanged(session, metadata) {
        return hasChangedSince(metadata.snapshot, session);
      },

      async destroy({ id }) {
        if (id !== undefined) await call("destroy", (signal) => records.delete(keyOf(id), signal));
      },

      async regenerate(session, metadata, lifetime) {
        if (session.content.size === 0) {
          if (metadata.id !== undefined) await call("destroy", (signal) => records.delete(keyOf(metadata.id!), signal));
          return { header: sessionGone, metadata: newSessionMetadata() };
        }
        const expiry = lifetime ?? { createdAt: clock(), expiresAt: clock() };
        const id = newId();
        const snapshot = snapshotToStore(session);
        await call("regenerate", (signal) =>
          metadata.id === undefined
            ? records.create(keyOf(id), snapshot, recordLifetime(expiry), signal)
            : records.move(keyOf(metadata.id), keyOf(id), snapshot, recordLifetime(expiry), signal),
        );
        return { header: id, metadata: { id, snapshot, expiresAt: expiry.expiresAt } };
      },
    },
  });
}

function newId(): string {
  return randomBytes(32).toString("base64url");
}

/** The record's key: a hash of the id, so that the server never holds an id a client could send. */
function keyOf(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
