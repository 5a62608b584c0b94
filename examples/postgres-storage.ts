// Sessions in PostgreSQL for the example app (`npm run example:postgres`): every process of the
// app started with the same SESSION_SECRET and DATABASE_URL shares them.
import pg from "pg";
import { createPostgresSessionStorage, type CookieOptions, type PostgresSessionStorage } from "../lib/index.js";

export type PostgresStorageForApp = {
  /** What `createApp({ storage })` takes: the storage on this pool (table "sessions", created if missing). */
  storage(cookie: CookieOptions): PostgresSessionStorage;
  /** Where the sessions are, without the password, for the start-up line. */
  description: string;
  /** Stops the storage's pruning and closes the pool (after the HTTP server has stopped). */
  close(): Promise<void>;
};

/**
 * A pool on `databaseUrl`, checked with one query so that the app does not start without its
 * sessions, and the storage the example app builds on it.
 *
 * @example
 * const postgres = await connectPostgresStorage("postgres://127.0.0.1:5432/test");
 * const app = createApp({ secret, storage: postgres.storage });
 */
export async function connectPostgresStorage(databaseUrl: string): Promise<PostgresStorageForApp> {
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  // pg requires it: an idle connection the server drops would otherwise crash the process.
  pool.on("error", (error) => console.error("PostgreSQL connection lost:", error.message));
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end();
    throw error;
  }
  let storage: PostgresSessionStorage | undefined;
  const where = new URL(databaseUrl);
  return {
    description: `the PostgreSQL table "sessions" in ${where.host}${where.pathname}`,
    storage(cookie) {
      storage = createPostgresSessionStorage({ pool, cookie, createTable: true });
      return storage;
    },
    async close() {
      await storage?.close();
      await pool.end();
    },
  };
}
