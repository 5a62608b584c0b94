/**
 * What the PostgreSQL variants share: a pool on the local server (127.0.0.1:5432, database
 * `test`; `BENCH_DATABASE_URL` points elsewhere) that counts the statements sent through
 * it, and a table of their own per server process, named after the harness run. The
 * harness drops the run's tables at its end: a server that dropped its own when it stops
 * would fail the requests still running, and the server process exits right after anyway.
 */
import { createHash } from "node:crypto";
import { userInfo } from "node:os";
import pg from "pg";

export const databaseUrl = process.env.BENCH_DATABASE_URL ?? `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/test`;

/** Every table of one harness run starts with this (letters, digits and _ only: no quoting needed). */
export const postgresRunPrefix = (runId: string) => `bench_${createHash("sha256").update(runId).digest("hex").slice(0, 10)}_`;

export type BenchDatabase = {
  pool: pg.Pool;
  /** The table this server's sessions live in. */
  tableName: string;
  /**
   * Statements sent so far. Both libraries check a connection out of the pool for each
   * statement (ours explicitly, connect-pg-simple through `pool.query`), so the pool's
   * "acquire" events count statements.
   */
  statements(): number;
};

/** A pool and a table name for `library`'s server in harness run `runId`. */
export function benchDatabase(runId: string, library: string): BenchDatabase {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  pool.on("error", (error) => console.error("postgres:", error.message));
  let statements = 0;
  pool.on("acquire", () => statements++);
  const tableName = `${postgresRunPrefix(runId)}${library}_${process.pid}`;
  return { pool, tableName, statements: () => statements };
}

/**
 * One of our storages on the bench database: `make` builds it on the pool and the server's
 * table; the server stops its pruning when it stops.
 */
export function onBenchDatabase<Storage extends { close(): Promise<void> }>(runId: string, make: (pool: pg.Pool, tableName: string) => Storage) {
  const database = benchDatabase(runId, "remastered");
  const storage = make(database.pool, database.tableName);
  return {
    storage,
    serverCalls: () => ({ statement: database.statements() }),
    close: () => storage.close(),
  };
}

/**
 * Drops every table of a harness run (servers drop their own when they stop; this catches
 * a server that crashed). Resolves to the number of tables dropped.
 */
export async function sweepPostgresRun(runId: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 5_000 });
  pool.on("error", () => {});
  try {
    const { rows } = await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)", [
      postgresRunPrefix(runId),
    ]);
    for (const { tablename } of rows) await pool.query(`DROP TABLE IF EXISTS "${tablename}"`);
    return rows.length;
  } finally {
    await pool.end();
  }
}
