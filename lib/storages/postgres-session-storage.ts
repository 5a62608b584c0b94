import type { CookieOptions } from "../cookie/cookie-options.js";
import { refuseUnknownOptions, SessionConfigError, SessionStorageError, SessionStorageTimeoutError } from "../errors.js";
import type { Serializable } from "../serializable.js";
import type { Clock } from "../session-expiry.js";
import { validateTimeout, type GiveUpSignal } from "../storage-timeout.js";
import type { EncryptedCookieStorage } from "../with-encrypted-cookies.js";
import { onPoolConnection, StatementTimeoutError, type PostgresPool, type PostgresResult, type PostgresStatement } from "./postgres/pool-connection.js";
import { postgresSessionRecords } from "./postgres/postgres-session-records.js";
import { expiryIndexSuffix, maxIdentifierBytes, sessionTable } from "./postgres/session-table.js";
import { pruneExpiredRows, startBackgroundPruning } from "./postgres/session-pruning.js";
import { tableCreation } from "./postgres/table-creation.js";
import { createServerSideSessionStorage, type ServerSideSessionMetadata } from "./server-side-session-storage.js";

export type { PostgresPool, PostgresPoolClient } from "./postgres/pool-connection.js";

/**
 * The options of `createPostgresSessionStorage`; the README gives each default and why.
 *
 * @example
 * const options: PostgresSessionStorageOptions = { pool, cookie: { name: "sid", secret }, schemaName: "app", pruneInterval: false };
 */
export type PostgresSessionStorageOptions = {
  /** A `pg.Pool`, yours: the storage checks connections out of it and gives them back, and never ends it. */
  pool: PostgresPool;
  /** The session cookie's settings: `name` and `secret` are required (see `CookieOptions`). */
  cookie: CookieOptions;
  /** The table's name (quoted: taken literally). Default `"sessions"`. */
  tableName?: string;
  /** The table's schema. Default: none, so the search path decides (usually `public`). */
  schemaName?: string;
  /** Create the table and its index if missing, before the first statement. Default `false`. */
  createTable?: boolean;
  /** Seconds between background prunes of expired rows (jittered), 1 or more; `0` or `false` for none. Default `300`. */
  pruneInterval?: number | false;
  /** Milliseconds each call to PostgreSQL may take before the request fails. Default `2000`; `Infinity` for none. */
  timeout?: number;
  /** Send statements as named prepared statements (parsed once per connection). Default `true`; `false` behind a pooler that cannot keep them. */
  preparedStatements?: boolean;
  /** ms since the epoch; default `Date.now`. The one clock for expiry: see the README. */
  clock?: Clock;
};

/**
 * The PostgreSQL storage: a row per session, an encrypted id in the cookie, plus `prune()` and `close()`.
 *
 * @example
 * const storage: PostgresSessionStorage = createPostgresSessionStorage({ pool, cookie, pruneInterval: false });
 * // a cron job of its own, every 10 minutes:
 * console.log(`pruned ${await storage.prune()} expired sessions`);
 */
export type PostgresSessionStorage = EncryptedCookieStorage<Serializable, ServerSideSessionMetadata> & {
  /** Deletes the expired rows now (e.g. from a cron job) and resolves to how many; skipped (0) while another server prunes. */
  prune(): Promise<number>;
  /** Stops the background pruning and waits for a prune that is running. The pool stays open: it is yours. */
  close(): Promise<void>;
};

/** Seconds between background prunes when `pruneInterval` is not given: 5 minutes (connect-pg-simple waits 15). */
export const defaultPruneInterval = 300;
/** Milliseconds a call may take when `timeout` is not given. */
export const defaultPostgresTimeout = 2_000;
const maxPruneInterval = 86_400;
const maxTableNameBytes = maxIdentifierBytes - expiryIndexSuffix.length;
const knownOptions = new Set(["pool", "cookie", "tableName", "schemaName", "createTable", "pruneInterval", "timeout", "preparedStatements", "clock"]);

/**
 * Keeps each session in a row of a PostgreSQL table (values as `jsonb`, keyed by a SHA-256 of
 * the session id); the cookie carries only an encrypted random id. A commit writes only what
 * its request changed, in one guarded statement, and nothing when nothing changed; expired
 * rows never load and are pruned in the background. Every call is bounded by `timeout`.
 *
 * `pool` is a `pg.Pool` (pg is an optional peer dependency): give it an `error` listener, as
 * pg asks, or a connection the server drops while idle crashes the process.
 *
 * @example
 * import pg from "pg";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on("error", (error) => console.error("idle PostgreSQL connection lost:", error.message));
 * const storage = createPostgresSessionStorage({
 *   pool,
 *   cookie: { name: "sid", secret: process.env.SESSION_SECRET! },
 *   createTable: true,
 * });
 * app.use(sessions({ storage }));
 * // at shutdown: await storage.close(); await pool.end();
 */
export function createPostgresSessionStorage(options: PostgresSessionStorageOptions): PostgresSessionStorage {
  const {
    pool,
    cookie,
    tableName = "sessions",
    schemaName,
    createTable = false,
    pruneInterval = defaultPruneInterval,
    timeout: timeoutOption,
    preparedStatements = true,
    clock = Date.now,
  } = validateOptions(options);
  const timeout = validateTimeout("timeout", timeoutOption, defaultPostgresTimeout);
  const table = sessionTable({ tableName, schemaName, prepared: preparedStatements });
  const creation = createTable
    ? tableCreation(table, (work) => onPoolConnection(pool, timeout, work).catch(explainMissingObjects))
    : undefined;

  /**
   * One statement, on a connection of its own, after the table exists; given up when
   * `signal` aborts (the shared layer's timeout), or, without one, after `timeout` ms.
   */
  const query = async (statement: PostgresStatement, signal?: GiveUpSignal): Promise<PostgresResult> => {
    if (creation && !creation.done) await creation.ensure();
    return onPoolConnection(pool, signal ?? timeout, (connection) => connection.query(statement)).catch(explainMissingObjects);
  };

  /** Explains the errors of a table that is not there, in words that say how to fix it. */
  function explainMissingObjects(error: unknown): never {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === "42P01") {
      throw new Error(`the table ${table.name} does not exist: pass createTable: true, or create it with the SQL in the README`, { cause: error });
    }
    if (code === "3F000") {
      throw new Error(`the schema of ${table.name} does not exist: create it first (CREATE SCHEMA), createTable creates only the table`, { cause: error });
    }
    throw error;
  }

  const storage = createServerSideSessionStorage({
    cookie,
    records: postgresSessionRecords(table, query),
    timeout,
    name: "PostgreSQL",
    clock,
  });

  const prune = async (): Promise<number> => {
    try {
      return await pruneExpiredRows(table, query, clock());
    } catch (error) {
      if (error instanceof StatementTimeoutError) throw new SessionStorageTimeoutError("prune", timeout, "PostgreSQL");
      throw new SessionStorageError("prune", `PostgreSQL failed to prune the expired sessions: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };
  const background = pruneInterval === false || pruneInterval === 0 ? undefined : startBackgroundPruning(prune, pruneInterval);

  return Object.assign(storage, {
    prune,
    async close() {
      await background?.stop();
    },
  });
}

/**
 * Alias of `createPostgresSessionStorage`, in the style of the storage names of Remastered's sessions page.
 *
 * @example
 * const storage = PostgresSessionStorage({ pool, cookie: { name: "sid", secret } });
 */
export const PostgresSessionStorage = createPostgresSessionStorage;

function validateOptions(options: PostgresSessionStorageOptions): PostgresSessionStorageOptions {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { pool, cookie }, e.g. createPostgresSessionStorage({ pool: new pg.Pool(), cookie: { name, secret } }).");
  }
  refuseUnknownOptions("", options, knownOptions);
  const { pool, tableName, schemaName, createTable, pruneInterval, preparedStatements, clock } = options;
  if (pool === null || typeof pool !== "object" || typeof (pool as { connect?: unknown }).connect !== "function") {
    throw new SessionConfigError(
      "pool",
      "expected a pg.Pool, e.g. new pg.Pool({ connectionString: process.env.DATABASE_URL }) (install pg: npm install pg).",
    );
  }
  if (tableName !== undefined) validateIdentifier("tableName", tableName, maxTableNameBytes, `so that "${expiryIndexSuffix}" still fits in its index's name`);
  if (schemaName !== undefined) validateIdentifier("schemaName", schemaName, maxIdentifierBytes, "the longest name PostgreSQL keeps");
  for (const [option, value] of [["createTable", createTable], ["preparedStatements", preparedStatements]] as const) {
    if (value !== undefined && typeof value !== "boolean") throw new SessionConfigError(option, `expected true or false; got ${JSON.stringify(value)}.`);
  }
  if (
    pruneInterval !== undefined &&
    pruneInterval !== false &&
    pruneInterval !== 0 &&
    (typeof pruneInterval !== "number" || !(pruneInterval >= 1 && pruneInterval <= maxPruneInterval))
  ) {
    throw new SessionConfigError(
      "pruneInterval",
      `expected seconds between background prunes, from 1 to ${maxPruneInterval} (default ${defaultPruneInterval}), or 0 or false for none ` +
        `(then call prune() yourself, e.g. from a cron job); got ${JSON.stringify(pruneInterval)}.`,
    );
  }
  if (clock !== undefined && typeof clock !== "function") throw new SessionConfigError("clock", "expected a function that returns ms since the epoch, like Date.now.");
  return options;
}

/** A table or schema name PostgreSQL keeps as it is: not empty, no NUL, not cut short. */
function validateIdentifier(option: string, name: unknown, maxBytes: number, why: string): void {
  if (typeof name !== "string" || name === "" || name.includes("\0") || Buffer.byteLength(name) > maxBytes) {
    throw new SessionConfigError(option, `expected a name of 1 to ${maxBytes} bytes without NUL characters (${why}); got ${JSON.stringify(name)}.`);
  }
}
