// A do-it-yourself session storage, written the simplest way the storage interface allows
// (README, "Do-it-yourself storages"): a SessionStorage<Value, Metadata> whose Metadata is the session id, wrapped with
// withEncryptedCookies so the browser only ever holds an encrypted id. Sessions live in a Map
// and are saved to a JSON file, so they survive a restart.
//
// A teaching example: one process, one file rewritten on every change, and each commit writes
// the whole session, so of two concurrent requests the last one's version wins. For real traffic use
// a database (see the Redis and PostgreSQL storages), but the shape stays the same.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import {
  sessionGone,
  withEncryptedCookies,
  type CookieOptions,
  type Serializable,
  type SessionLifetime,
  type SessionStorage,
  type StoredSession,
} from "../lib/index.js";

/** One session as saved in the file: plain JSON, entries kept as pairs so any key is safe. */
type SessionRecord = {
  content: [string, Serializable][];
  flashedKeys: string[];
  /** ms since the epoch; the cookie expires too, but the server must not trust that alone. */
  expiresAt: number;
};

/** The Metadata passed from fromHeader to toHeader: the session id, and whether it was on file when read. */
type SessionId = { id: string; wasStored: boolean };

export function createJsonFileSessionStorage({
  cookie,
  file,
  clock = Date.now,
}: {
  cookie: CookieOptions;
  file: string;
  /** ms since the epoch; tests pass their own to move time forward. */
  clock?: () => number;
}) {
  // Read once at start-up; a missing file just means no sessions yet.
  const records = new Map<string, SessionRecord>(
    existsSync(file) ? Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, SessionRecord>) : [],
  );
  let lastWrite: Promise<void> = Promise.resolve();

  const idStorage: SessionStorage<Serializable, SessionId> & { destroy(metadata: SessionId): Promise<void> } = {
    // Reading phase. `id` is what withEncryptedCookies decrypted from the cookie: undefined when
    // there is no cookie, or it was forged, tampered with or expired.
    async fromHeader(id) {
      const record = id === undefined ? undefined : records.get(id);
      if (id === undefined || record === undefined || record.expiresAt <= clock()) {
        // Unknown id: start a fresh session under a NEW random id. Never adopt the id the client
        // sent, or someone who plants an id in a victim's browser could share their session
        // (session fixation). 256 random bits cannot be guessed.
        return [{ content: new Map(), flashedKeys: new Set() }, { id: newId(), wasStored: false }];
      }
      // A fresh copy, so the request's changes reach the store only when committed.
      return [{ content: new Map(record.content), flashedKeys: new Set(record.flashedKeys) }, { id, wasStored: true }];
    },

    // Commit phase: save the session under its id (the Metadata from fromHeader) and return
    // the id. withEncryptedCookies encrypts it into the Set-Cookie header. `lifetime` says
    // when the cookie will expire: the record expires with it.
    async toHeader(session: StoredSession<Serializable>, { id, wasStored }: SessionId, lifetime?: SessionLifetime) {
      // A session this request read is gone: another request destroyed it (a logout) or moved
      // it (a login's regenerate) while this one ran. Writing it back would undo the logout,
      // and re-sending its old cookie would undo the login: answer sessionGone, so nothing is
      // written and no cookie is sent.
      if (wasStored && !records.has(id)) return sessionGone;
      records.set(id, {
        content: [...session.content],
        flashedKeys: [...session.flashedKeys],
        expiresAt: lifetime?.expiresAt ?? clock() + storage.cookie.maxAge * 1000,
      });
      await save();
      return id;
    },

    // Optional: called for session.destroy() and regenerate(). Without it the wrapper would store
    // the session empty, which also ends it, but leaves a record behind.
    async destroy({ id }: SessionId) {
      records.delete(id);
      await save();
    },
  };

  // The wrapper validates the cookie options, parses the Cookie header, decrypts and checks the
  // expiry on the way in, and encrypts and builds the Set-Cookie header on the way out.
  const storage = withEncryptedCookies({ cookie, storage: idStorage, clock });

  /** Writes the whole Map to the file; writes run one after another, so the last state wins. */
  function save(): Promise<void> {
    lastWrite = lastWrite.catch(() => undefined).then(async () => {
      const now = clock();
      for (const [id, record] of records) if (record.expiresAt <= now) records.delete(id); // forget expired sessions
      // Write a temporary file, then rename it over the old one: a crash never leaves half a file.
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(Object.fromEntries(records)), { mode: 0o600 });
      await rename(temporary, file);
    });
    return lastWrite;
  }

  return storage;
}

/** 256 random bits, URL-safe. */
function newId(): string {
  return randomBytes(32).toString("base64url");
}
