/**
 * express-session with connect-pg-simple, on the local PostgreSQL (see postgres.ts): its own
 * table per server, created from connect-pg-simple's table.sql, dropped at the end of the run.
 * connect-pg-simple's defaults otherwise: `json` sessions, a `touch` UPDATE on every request
 * that reads a session, a whole-session upsert on every write.
 */
import { readFileSync } from "node:fs";
import { sessionMaxAgeSeconds } from "../config.js";
import type { VariantFactory } from "../routes.js";
import { expressSessionVariant, requirePeer } from "./express-session-common.js";
import { benchDatabase } from "./postgres.js";

// Through `require` for the reason given in express-session-common.ts: its types import express-session's.
type PgStore = new (options: { pool: unknown; tableName: string; ttl: number }) => { close(): Promise<void> };
const connectPgSimple = requirePeer("connect-pg-simple") as (session: unknown) => PgStore;

export const expressSessionPostgres: VariantFactory = async ({ runId }) => {
  const database = benchDatabase(runId, "connect_pg_simple");
  // Its createTableIfMissing keeps the names "session_pkey" and "IDX_session_expire" whatever
  // the table: a second table would collide. The same SQL, with those named after the table.
  const tableSql = readFileSync(requirePeer.resolve("connect-pg-simple/table.sql"), "utf8")
    .replaceAll('"session_pkey"', `"${database.tableName}_pkey"`)
    .replaceAll('"IDX_session_expire"', `"${database.tableName}_expire"`)
    .replaceAll('"session"', `"${database.tableName}"`);
  await database.pool.query(tableSql);
  const PostgresStore = connectPgSimple(requirePeer("express-session"));
  const store = new PostgresStore({ pool: database.pool, tableName: database.tableName, ttl: sessionMaxAgeSeconds });
  return {
    ...expressSessionVariant(store, () => store.close()),
    serverCalls: () => ({ statement: database.statements() }),
  };
};
