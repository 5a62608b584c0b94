// The example app's sessions in PostgreSQL: `npm run example:postgres`.
//   DATABASE_URL  default postgres://<your user name>@127.0.0.1:5432/test (as psql, the OS user's role)
import { userInfo } from "node:os";
import pg from "pg";
import { createPostgresSessionStorage, type CookieOptions, type PostgresSessionStorage } from "../lib/index.js";

/** A pool on DATABASE_URL, the storage the example app builds on it (table "sessions", created if missing), and their shutdown. */
export function postgresSessions() {
  const databaseUrl = process.env.DATABASE_URL ?? `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/test`;
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // pg requires it: an idle connection the server drops would otherwise crash the process.
  pool.on("error", (error) => console.error("PostgreSQL connection lost:", error.message));
  let storage: PostgresSessionStorage | undefined;
  const where = new URL(databaseUrl);
  return {
    /** Where the sessions are, without the password. */
    description: `PostgreSQL table "sessions" in ${where.host}${where.pathname}`,
    storage(cookie: CookieOptions) {
      storage = createPostgresSessionStorage({ pool, cookie, createTable: true });
      return storage;
    },
    async close() {
      await storage?.close();
      await pool.end();
    },
  };
}
