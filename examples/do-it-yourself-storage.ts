// A do-it-yourself server-side storage on the storage seams, in one screen: a Map stands for
// your database table. It keeps each value as JSON, writes only what a request changed, lets
// its records expire with their cookies, and never writes back a session that is gone.
// The README shows it; the conformance kit checks it (__tests__/storage-conformance.test.ts);
// `npm run example:do-it-yourself` runs the example app on it (examples/do-it-yourself-server.ts).
import { randomBytes } from "node:crypto";
import {
  applyChanges,
  hasChangedSince,
  sessionChangesSince,
  sessionFromSnapshot,
  sessionGone,
  withEncryptedCookies,
  type CookieOptions,
  type Serializable,
  type SessionSnapshot,
} from "../lib/index.js";

/** A row of the "table": the session as JSON, key by key, and when it expires (ms). */
type Row = { snapshot: SessionSnapshot; expiresAt: number };
/** What a request carries from reading to committing: its row's id, and the row as it read it. */
type Metadata = { id: string | undefined; snapshot: SessionSnapshot };

const empty = (): SessionSnapshot => ({ content: new Map(), flashedKeys: new Set() });
const copy = ({ content, flashedKeys }: SessionSnapshot): SessionSnapshot => ({ content: new Map(content), flashedKeys: new Set(flashedKeys) });

export function createMapSessionStorage({ cookie, clock = Date.now }: { cookie: CookieOptions; clock?: () => number }) {
  const rows = new Map<string, Row>();

  return withEncryptedCookies<Serializable, Metadata>({
    cookie,
    clock,
    storage: {
      // `id` is the decrypted cookie value, or undefined when there is no live cookie.
      async fromHeader(id) {
        const row = id === undefined ? undefined : rows.get(id);
        if (id === undefined || !row || row.expiresAt <= clock()) return [sessionFromSnapshot(empty()), { id: undefined, snapshot: empty() }];
        const snapshot = copy(row.snapshot);
        return [sessionFromSnapshot(snapshot), { id, snapshot }];
      },

      // `lifetime` is the cookie's: the row expires with it.
      async toHeader(session, metadata, lifetime) {
        const changes = sessionChangesSince(metadata.snapshot, session); // only what this request changed
        let row = metadata.id === undefined ? undefined : rows.get(metadata.id);
        if (metadata.id !== undefined && (!row || row.expiresAt <= clock())) return sessionGone; // destroyed or moved meanwhile
        if (!row) {
          if (session.content.size === 0) return sessionGone; // nothing to keep: no row, no cookie
          metadata.id = randomBytes(32).toString("base64url"); // never an id the client chose
          row = { snapshot: empty(), expiresAt: 0 };
          rows.set(metadata.id, row);
        }
        applyChanges(row.snapshot, changes);
        row.expiresAt = lifetime!.expiresAt;
        applyChanges(metadata.snapshot, changes); // later commits of this request compare against what was written
        return metadata.id!;
      },

      // Optional: sees values changed in place (`session.get("cart").push(item)`) key by key.
      hasChanged: (session, metadata) => hasChangedSince(metadata.snapshot, session),

      // Optional: destroy() and the old identity of regenerate() delete the row.
      async destroy({ id }) {
        if (id !== undefined) rows.delete(id);
      },
    },
  });
}
