/**
 * The sessions table: its definition and every statement the storage sends, in one place.
 * Identifiers are quoted (the names come from options); every value is a parameter.
 */
import { createHash } from "node:crypto";
import type { PostgresStatement } from "./pool-connection.js";

/**
 * A statement's text, and the name it is prepared under (none when prepared statements are off).
 *
 * @example
 * const { text, name } = sessionTable({ tableName: "sessions", prepared: true }).read;
 */
export type StatementTemplate = { readonly text: string; readonly name: string | undefined };

/**
 * The table's name, definition, lock keys and statement templates.
 *
 * @example
 * const table: SessionTable = sessionTable({ tableName: "sessions", schemaName: "app", prepared: true });
 */
export type SessionTable = {
  /** The quoted, schema-qualified name, e.g. `"app"."sessions"`. */
  readonly name: string;
  /** What `createTable: true` runs, and what the README shows for migrations. */
  readonly definition: readonly string[];
  /** Advisory lock keys (64-bit, as text): table creation and pruning each run on one app server at a time. */
  readonly creationLockKey: string;
  readonly pruneLockKey: string;
  readonly read: StatementTemplate;
  readonly create: StatementTemplate;
  readonly update: StatementTemplate;
  readonly renew: StatementTemplate;
  readonly delete: StatementTemplate;
  readonly move: StatementTemplate;
  readonly pruneBatch: StatementTemplate;
};

/** The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); longer ones are cut, silently. */
export const maxIdentifierBytes = 63;
/** Appended to the table's name to name its expiry index. */
export const expiryIndexSuffix = "_expires_at_idx";

/**
 * The statements for the table `tableName` (in `schemaName`, or the first schema of the
 * search path), prepared under names derived from their text when `prepared` is true.
 *
 * - `id_hash`: the primary key, the SHA-256 of the session id (base64url): never the id.
 * - `data`: the session's values, `{ key: value }`, so that a commit merges its changes with `||` and `-`.
 * - `flashed`: the keys that are flashes, `{ key: true }`, changed with the same operators.
 * - `created_at`, `expires_at`: `timestamptz`, from the application's clock (see the README: one clock).
 *
 * @example
 * const table = sessionTable({ tableName: "sessions", prepared: true });
 * for (const text of table.definition) await pool.query(text); // what createTable: true runs
 */
export function sessionTable({ tableName, schemaName, prepared }: { tableName: string; schemaName?: string; prepared: boolean }): SessionTable {
  const table = schemaName === undefined ? quoteIdentifier(tableName) : `${quoteIdentifier(schemaName)}.${quoteIdentifier(tableName)}`;
  const template = (text: string): StatementTemplate => ({
    text,
    // Named after the text: two copies of the library that disagree can share one pool.
    name: prepared ? `remastered_sessions_${createHash("sha256").update(text).digest("hex").slice(0, 24)}` : undefined,
  });
  const columns = "id_hash, data, flashed, created_at, expires_at";
  return {
    name: table,
    definition: [
      `CREATE TABLE IF NOT EXISTS ${table} (
  id_hash text PRIMARY KEY,
  data jsonb NOT NULL,
  flashed jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
)`,
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(tableName + expiryIndexSuffix)} ON ${table} (expires_at)`,
    ],
    creationLockKey: advisoryLockKey("create", table),
    pruneLockKey: advisoryLockKey("prune", table),
    // $1 the record key, $2 now
    read: template(`SELECT data::text AS data, flashed::text AS flashed FROM ${table} WHERE id_hash = $1 AND expires_at > $2`),
    // $1 key, $2 data, $3 flashed, $4 created_at, $5 expires_at
    create: template(`INSERT INTO ${table} (${columns}) VALUES ($1, $2::jsonb, $3::jsonb, $4, $5)`),
    // $1 key, $2 values set, $3 keys unset, $4 keys flashed, $5 keys unflashed, $6 expires_at, $7 now
    update: template(
      `UPDATE ${table} SET data = (data || $2::jsonb) - $3::text[], flashed = (flashed || $4::jsonb) - $5::text[], expires_at = $6 ` +
        `WHERE id_hash = $1 AND expires_at > $7`,
    ),
    // $1 key, $2 expires_at, $3 now
    renew: template(`UPDATE ${table} SET expires_at = $2 WHERE id_hash = $1 AND expires_at > $3`),
    // $1 key
    delete: template(`DELETE FROM ${table} WHERE id_hash = $1`),
    // $1 old key, then as create: one statement, so the old identity is dead the moment the new one exists
    move: template(
      `WITH old AS (DELETE FROM ${table} WHERE id_hash = $1) INSERT INTO ${table} (${columns}) VALUES ($2, $3::jsonb, $4::jsonb, $5, $6)`,
    ),
    // $1 now, $2 prune lock key, $3 batch size. The lock is taken once (an InitPlan), for this
    // statement's transaction: a server that finds it taken deletes nothing.
    pruneBatch: template(
      `WITH pruning AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($2::bigint) AS locked), ` +
        `expired AS (SELECT id_hash FROM ${table} WHERE expires_at <= $1 AND (SELECT locked FROM pruning) LIMIT $3 FOR UPDATE SKIP LOCKED) ` +
        `DELETE FROM ${table} USING expired WHERE ${table}.id_hash = expired.id_hash`,
    ),
  };
}

/**
 * `template` with its parameters, ready to send.
 *
 * @example
 * await connection.query(statement(table.delete, [key]));
 */
export function statement(template: StatementTemplate, values: unknown[]): PostgresStatement {
  return template.name === undefined ? { text: template.text, values } : { text: template.text, values, name: template.name };
}

/**
 * A quoted identifier: any name (quotes included) is taken literally, never as SQL.
 *
 * @example
 * quoteIdentifier('my "odd" table'); // '"my ""odd"" table"'
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A 64-bit advisory lock key (as text, for a `bigint` parameter) for `purpose` on `table`. */
function advisoryLockKey(purpose: string, table: string): string {
  const digest = createHash("sha256").update(`remastered-sessions ${purpose} ${table}`).digest();
  return digest.readBigInt64BE(0).toString();
}
