// Shared set-up for the PostgreSQL suites: pools on the local server (127.0.0.1:5432, database
// `test`), tables of their own with unique names, and the tools to break things on purpose
// (a statement counter, a proxy that takes the database away and brings it back).
import { randomBytes } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import { userInfo } from "node:os";
import pg from "pg";
import type { PostgresPool, PostgresPoolClient } from "../lib/index.js";

/** PGPORT moves the suites to another server (and lets you see them skip: PGPORT=1). */
export const postgresPort = Number(process.env.PGPORT ?? 5432);

/** Connection settings for the local test server; PGUSER, PGDATABASE and PGHOST may override them. */
export function connectionSettings(overrides: pg.PoolConfig = {}): pg.PoolConfig {
  return {
    host: process.env.PGHOST ?? "127.0.0.1",
    port: postgresPort,
    database: process.env.PGDATABASE ?? "test",
    user: process.env.PGUSER ?? userInfo().username,
    ...overrides,
  };
}

/** A name no other test (or test run) uses, e.g. `sessions_test_3fa9c1d2e4b5`. */
export function uniqueName(prefix = "sessions_test"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/**
 * A pool whose connections carry a unique `application_name`, so that a test can find (and
 * terminate) its own connections and no one else's. Idle connections the server drops are
 * reported to its `errors`, as every app must (pg crashes the process otherwise).
 */
export function testPool(overrides: pg.PoolConfig = {}) {
  const applicationName = uniqueName("remastered_test");
  const pool = new pg.Pool(connectionSettings({ application_name: applicationName, ...overrides }));
  const errors: Error[] = [];
  pool.on("error", (error) => errors.push(error));
  return Object.assign(pool, { applicationName, errors });
}

export type TestPool = ReturnType<typeof testPool>;

/** Drops a test's table (and its schema, when it has one of its own). */
export async function dropTable(pool: pg.Pool, tableName: string, schemaName?: string): Promise<void> {
  if (schemaName !== undefined) await pool.query(`DROP SCHEMA IF EXISTS ${quote(schemaName)} CASCADE`);
  else await pool.query(`DROP TABLE IF EXISTS ${quote(tableName)}`);
}

/** A quoted identifier, for the tests' own SQL. */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * `pool` as the storage sees it, with every statement it sends written down in order (its
 * command: SELECT, INSERT, UPDATE, DELETE...), with their full texts and prepared statement names.
 */
export function countingPool(pool: PostgresPool) {
  const statements: string[] = [];
  const texts: string[] = [];
  const names: (string | undefined)[] = [];
  const counting: PostgresPool = {
    async connect() {
      const client = await pool.connect();
      const wrapped: PostgresPoolClient = {
        query(statement) {
          texts.push(statement.text);
          names.push(statement.name);
          statements.push(commandOf(statement.text));
          return client.query(statement);
        },
        release: (destroy) => client.release(destroy),
        on: (event, listener) => client.on(event, listener),
        removeListener: (event, listener) => client.removeListener(event, listener),
        get processID() {
          return client.processID;
        },
      };
      return wrapped;
    },
  };
  return { pool: counting, statements, texts, names };
}

/** The command a statement runs: its first word, or after a WITH, the first word after its last top-level parenthesis. */
function commandOf(text: string): string {
  if (!/^\s*WITH\b/i.test(text)) return /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? "?";
  let depth = 0;
  let lastClose = 0;
  for (let index = 0; index < text.length; index++) {
    if (text[index] === "(") depth++;
    else if (text[index] === ")" && --depth === 0) lastClose = index;
  }
  return /^\W*(\w+)/.exec(text.slice(lastClose + 1))?.[1]?.toUpperCase() ?? "?";
}

/**
 * A TCP proxy on a free loopback port in front of PostgreSQL: `down()` cuts every connection
 * and refuses new ones (a database that went away), `up()` lets them through again.
 */
export async function startDatabaseProxy(): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(postgresPort, "127.0.0.1");
        track(client);
        track(upstream);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server!.address() as { port: number }).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  const port = await listen(0);
  return { port, down: stop, up: async () => void (await listen(port)), close: stop };
}

/** Milliseconds `run` took, with what it resolved to. */
export async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: Math.round(performance.now() - started) };
}

/** Waits until `check` holds, polling every 20 ms; fails after `within` ms. */
export async function eventually(check: () => Promise<boolean>, within = 3_000, what = "the condition"): Promise<void> {
  const deadline = Date.now() + within;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${within} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
