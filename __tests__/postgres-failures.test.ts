// A database that is locked, drops our connections, has no free connection, or is gone: each
// request fails fast with a typed error through Express's error handler, nothing is written
// late, and the next request after the cause is removed works. Timings are measured over
// real HTTP; POSTGRES_TIMINGS=1 prints them.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Express, NextFunction, Request, Response } from "express";
import express from "express";
import pg from "pg";
import request from "supertest";
import { createPostgresSessionStorage, sessions, type PostgresPool } from "../lib/index.js";
import { cookiePair, testCookie } from "./fixtures.js";
import {
  connectionSettings,
  dropTable,
  eventually,
  postgresPort,
  quote,
  startDatabaseProxy,
  testPool,
  timed,
  uniqueName,
  type TestPool,
} from "./postgres-fixtures.js";
import { serverIsUp } from "./servers.js";

const postgresIsUp = await serverIsUp("PostgreSQL", postgresPort);
const describeWithPostgres = postgresIsUp ? describe : describe.skip;

/** Each storage call's bound in these tests: short, so that the suite stays fast. */
const timeout = 500;
/** What "fast" means: the bound plus what HTTP and a loaded CI machine add. */
const fast = timeout + 400;
const tableName = uniqueName();
const cookie = testCookie();
const admin = testPool({ max: 2 });
const timings: string[] = [];

/** The session app: /write sets a key, /read reads one; errors answer 500 with their name and code. */
function appOn(pool: PostgresPool, options: { timeout?: number } = {}): Express {
  const app = express();
  const storage = createPostgresSessionStorage({ pool, cookie, tableName, pruneInterval: false, timeout, ...options });
  app.use(sessions({ storage }));
  app.post("/write/:key", (req, res) => {
    req.session.set(req.params.key!, true);
    res.sendStatus(204);
  });
  app.get("/read/:key", (req, res) => {
    res.json({ [req.params.key!]: req.session.get(req.params.key!) ?? null });
  });
  app.use((error: Error & { code?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    res.status(500).json({ name: error.name, code: error.code, message: error.message });
  });
  return app;
}

/** A request's response and how long it took, noted for the timings table. */
async function measure(what: string, send: () => PromiseLike<request.Response>) {
  const { result, ms } = await timed(async () => send());
  timings.push(`${what}: ${result.status} ${result.body?.code ?? ""} in ${ms} ms`);
  return { response: result, ms };
}

/** How many of `pool`'s connections are waiting on a lock in the server right now. */
async function waitingOnLocks(pool: TestPool): Promise<number> {
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
    [pool.applicationName],
  );
  return rows[0].n;
}

beforeAll(async () => {
  if (!postgresIsUp) return;
  const setUp = createPostgresSessionStorage({ pool: admin, cookie, tableName, createTable: true, pruneInterval: false });
  await setUp.prune(); // creates the table
});

afterAll(async () => {
  if (postgresIsUp) await dropTable(admin, tableName);
  await admin.end();
  if (process.env.POSTGRES_TIMINGS) process.stdout.write(`\nPostgreSQL failure timings (timeout ${timeout} ms):\n  ${timings.join("\n  ")}\n`);
});

describeWithPostgres("when PostgreSQL fails, requests fail fast with a typed error, and recover", () => {
  test("a locked table: ERR_SESSION_STORAGE_TIMEOUT within the bound, the blocked statements are cancelled, nothing is written late", async () => {
    const pool = testPool({ max: 4 });
    const app = appOn(pool);
    const header = cookiePair(await request(app).post("/write/user"));
    const locker = new pg.Client(connectionSettings());
    await locker.connect();
    try {
      await locker.query(`BEGIN; LOCK TABLE ${quote(tableName)} IN ACCESS EXCLUSIVE MODE`);
      const read = await measure("locked table, read", () => request(app).get("/read/user").set("Cookie", header));
      const write = await measure("locked table, write", () => request(app).post("/write/late").set("Cookie", header));
      for (const { response, ms } of [read, write]) {
        expect(response.status).toBe(500);
        expect(response.body).toMatchObject({ name: "SessionStorageTimeoutError", code: "ERR_SESSION_STORAGE_TIMEOUT" });
        expect(ms).toBeLessThan(fast);
      }
      // The statements we gave up on do not wait on the lock, holding server connections, until it is released.
      await eventually(async () => (await waitingOnLocks(pool)) === 0, 1_000, "the cancellation of the abandoned statements");
    } finally {
      await locker.query("COMMIT");
      await locker.end();
    }
    const after = await measure("lock released, read", () => request(app).get("/read/late").set("Cookie", header));
    expect(after.response.status).toBe(200);
    expect(after.response.body).toEqual({ late: null }); // the write that failed was not applied after all
    expect((await request(app).get("/read/user").set("Cookie", header)).body).toEqual({ user: true });
    await pool.end();
  });

  test("pg_terminate_backend on the pool's own connections: a typed error at once for the statement in flight, then recovery", async () => {
    const pool = testPool({ max: 4 });
    // A long bound: the error must come from the terminated connection, not from the timeout.
    const app = appOn(pool, { timeout: 5_000 });
    const header = cookiePair(await request(app).post("/write/user"));
    const terminateOurs = () =>
      admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [pool.applicationName]);

    // Idle connections terminated: the pool drops them (its error listener hears of it) and the next request connects anew.
    await terminateOurs();
    await eventually(async () => pool.totalCount === 0 || pool.errors.length > 0, 1_000, "the pool noticing");
    const idle = await measure("idle connections terminated, next read", () => request(app).get("/read/user").set("Cookie", header));
    expect([200, 500]).toContain(idle.response.status);
    if (idle.response.status === 500) expect(idle.response.body.code).toMatch(/^ERR_SESSION_/);
    expect(idle.ms).toBeLessThan(fast);

    // A statement in flight (blocked by a lock so that it is surely running) terminated.
    const locker = new pg.Client(connectionSettings());
    await locker.connect();
    let inFlight: Promise<{ response: request.Response; ms: number }>;
    try {
      await locker.query(`BEGIN; LOCK TABLE ${quote(tableName)} IN ACCESS EXCLUSIVE MODE`);
      inFlight = measure("statement in flight terminated", () => request(app).get("/read/user").set("Cookie", header));
      await eventually(async () => (await waitingOnLocks(pool)) === 1, 2_000, "the read to be waiting");
      await terminateOurs();
      const { response, ms } = await inFlight;
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ name: "SessionStorageError", code: "ERR_SESSION_STORAGE" });
      expect(response.body.message).toMatch(/terminat/);
      expect(ms).toBeLessThan(2_000);
    } finally {
      await locker.query("COMMIT");
      await locker.end();
    }
    const after = await measure("after termination, read", () => request(app).get("/read/user").set("Cookie", header));
    expect(after.response.body).toEqual({ user: true });
    await pool.end();
  });

  test("an exhausted pool (max 1, its only connection checked out): ERR_SESSION_STORAGE_TIMEOUT, and nothing runs late once it is free", async () => {
    const pool = testPool({ max: 1 });
    const app = appOn(pool);
    const header = cookiePair(await request(app).post("/write/user"));
    const held = await pool.connect();
    try {
      const read = await measure("exhausted pool, read", () => request(app).get("/read/user").set("Cookie", header));
      const write = await measure("exhausted pool, write", () => request(app).post("/write/late").set("Cookie", header));
      for (const { response, ms } of [read, write]) {
        expect(response.status).toBe(500);
        expect(response.body).toMatchObject({ name: "SessionStorageTimeoutError", code: "ERR_SESSION_STORAGE_TIMEOUT" });
        expect(ms).toBeLessThan(fast);
      }
    } finally {
      held.release();
    }
    const after = await measure("pool free again, read", () => request(app).get("/read/late").set("Cookie", header));
    expect(after.response.body).toEqual({ late: null });
    expect((await request(app).get("/read/user").set("Cookie", header)).body).toEqual({ user: true });
    await pool.end();
  });

  test("a database that goes away: a typed error at once, and the sessions are back when it returns", async () => {
    const proxy = await startDatabaseProxy();
    const pool = testPool({ port: proxy.port, max: 4 });
    const app = appOn(pool);
    try {
      const header = cookiePair(await request(app).post("/write/user"));
      await proxy.down();
      const down = await measure("database gone, read", () => request(app).get("/read/user").set("Cookie", header));
      expect(down.response.status).toBe(500);
      expect(down.response.body.code).toMatch(/^ERR_SESSION_STORAGE/);
      expect(down.ms).toBeLessThan(fast);

      await proxy.up();
      const back = await measure("database back, read", () => request(app).get("/read/user").set("Cookie", header));
      expect(back.response.body).toEqual({ user: true });
    } finally {
      await pool.end();
      await proxy.close();
    }
  });
});
