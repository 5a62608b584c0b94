/**
 * The session records of the PostgreSQL storage: one row per session, each method one
 * statement. The shared server-side layer decides what to write; this says how in SQL.
 */
import { hasNoChanges } from "../../session-changes.js";
import type { GiveUpSignal } from "../../storage-timeout.js";
import type { SessionRecords } from "../server-side-session-storage.js";
import { flashMarksOf, jsonbObjectOf, snapshotOfRow } from "./jsonb-text.js";
import type { PostgresResult, PostgresStatement } from "./pool-connection.js";
import { statement, type SessionTable } from "./session-table.js";

/**
 * Records in `table`, each call one statement through `query`. Times are the application's
 * clock, sent as parameters: the database's `now()` is never used, so a row expires exactly
 * when its cookie does, whatever the two clocks say.
 *
 * - `update` merges only the request's changes into the row (`data || set - unset`), guarded
 *   by `id_hash = $1 AND expires_at > now`: concurrent requests that change different keys
 *   both keep their change, and a row deleted or expired meanwhile is not written (false).
 * - A renewal writes the expiry alone.
 * - `move` deletes the old row and inserts the new one in one statement.
 *
 * @example
 * const records = postgresSessionRecords(table, (statement) => onPoolConnection(pool, 2000, (connection) => connection.query(statement)));
 * const storage = createServerSideSessionStorage({ cookie, records, timeout: 2000, name: "PostgreSQL" });
 */
export function postgresSessionRecords(
  table: SessionTable,
  query: (statement: PostgresStatement, signal: GiveUpSignal) => Promise<PostgresResult>,
): SessionRecords {
  return {
    async read(key, now, signal) {
      const { rows } = await query(statement(table.read, [key, new Date(now)]), signal);
      const row = rows[0] as { data: string; flashed: string } | undefined;
      return row && snapshotOfRow(row.data, row.flashed);
    },

    async create(key, session, { createdAt, expiresAt }, signal) {
      const data = jsonbObjectOf(session.content);
      await query(statement(table.create, [key, data, flashMarksOf(session.flashedKeys), new Date(createdAt), new Date(expiresAt)]), signal);
    },

    async update(key, changes, { expiresAt }, now, signal) {
      const { rowCount } = hasNoChanges(changes)
        ? await query(statement(table.renew, [key, new Date(expiresAt), new Date(now)]), signal)
        : await query(
            statement(table.update, [
              key,
              jsonbObjectOf(changes.set),
              changes.unset,
              flashMarksOf(changes.flashed),
              changes.unflashed,
              new Date(expiresAt),
              new Date(now),
            ]),
            signal,
          );
      return rowCount === 1;
    },

    async delete(key, signal) {
      await query(statement(table.delete, [key]), signal);
    },

    async move(oldKey, newKey, session, { createdAt, expiresAt }, signal) {
      const data = jsonbObjectOf(session.content);
      await query(statement(table.move, [oldKey, newKey, data, flashMarksOf(session.flashedKeys), new Date(createdAt), new Date(expiresAt)]), signal);
    },
  };
}
