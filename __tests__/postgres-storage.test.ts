// The PostgreSQL storage against the real server: the contract, the table as a user sees it
// in psql, concurrent requests over real HTTP, writes that must not happen, table creation,
// pruning and hostile input. Failure modes (locks, dropped connections, an exhausted pool)
// are in postgres-failures.test.ts.
import { afterAll, describe, expect, jest, test } from "@jest/globals";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import pg from "pg";
import request from "supertest";
import { createApp } from "../examples/app.js";
import {
  createPostgresSessionStorage,
  intoSessionStore,
  PostgresSessionStorage,
  SessionConfigError,
  SessionValueNotSerializableError,
  type PostgresSessionStorageOptions,
  type Serializable,
} from "../lib/index.js";
import { sessionTable } from "../lib/storages/postgres/session-table.js";
import { testSessionStorage } from "../lib/testing/index.js";
import { appWithSessions, cookiePair, setCookieFor, setCookies, testCookie, testSecret } from "./fixtures.js";
import { connectionSettings, countingPool, dropTable, eventually, postgresPort, quote, testPool, uniqueName } from "./postgres-fixtures.js";
import { serverIsUp, startSilentServer } from "./servers.js";

const postgresIsUp = await serverIsUp("PostgreSQL", postgresPort);
const describeWithPostgres = postgresIsUp ? describe : describe.skip;

const timeouts = { maxAge: 600, absoluteTimeout: 3600 };
const cookie = testCookie(timeouts);
const pool = testPool();
/** Tables (and schemas) this file created, dropped at the end. */
const created: { tableName: string; schemaName?: string }[] = [];
/** Storages this file created, closed at the end (their background pruning stops). */
const storages: { close(): Promise<void> }[] = [];

/** A storage on a table of its own (created on first use), background pruning off unless asked. */
function storageOn(tableName: string, options: Partial<PostgresSessionStorageOptions> = {}) {
  if (!created.some((table) => table.tableName === tableName && table.schemaName === options.schemaName)) {
    created.push({ tableName, schemaName: options.schemaName });
  }
  const storage = createPostgresSessionStorage({ pool, cookie, tableName, createTable: true, pruneInterval: false, ...options });
  storages.push(storage);
  return storage;
}

const silent = postgresIsUp ? await startSilentServer() : undefined;
const silentPool = new pg.Pool(connectionSettings({ port: silent?.port ?? 1 }));
silentPool.on("error", () => undefined);

afterAll(async () => {
  await Promise.all(storages.map((storage) => storage.close()));
  if (postgresIsUp) for (const { tableName, schemaName } of created) await dropTable(pool, tableName, schemaName);
  await silent?.close();
  await silentPool.end().catch(() => undefined);
  await pool.end();
});

const conformanceTable = uniqueName();
testSessionStorage("the PostgreSQL storage", {
  ...timeouts,
  describe: describeWithPostgres,
  createStorage: (clock) => storageOn(conformanceTable, { clock }),
  unresponsive: {
    timeout: 300,
    createStorage: (clock) =>
      createPostgresSessionStorage({ pool: silentPool, cookie, tableName: conformanceTable, pruneInterval: false, timeout: 300, clock }),
  },
});

/** The rows of a test table, as psql shows them. */
async function rowsOf(tableName: string, schemaName?: string) {
  const table = schemaName === undefined ? quote(tableName) : `${quote(schemaName)}.${quote(tableName)}`;
  const { rows } = await pool.query(`SELECT id_hash, data, flashed, created_at, expires_at FROM ${table} ORDER BY created_at`);
  return rows as { id_hash: string; data: Record<string, unknown>; flashed: Record<string, true>; created_at: Date; expires_at: Date }[];
}

/** The session id inside a response's cookie, as the storage reads it back. */
async function idOf(storage: PostgresSessionStorage, cookieHeader: string): Promise<string> {
  const [, metadata] = await storage.fromHeader(cookieHeader);
  return metadata!.inner.id!;
}

/** The `name=value` pair of a `Set-Cookie` value: what a browser sends back. */
const pairOf = (setCookie: string) => setCookie.split(";")[0]!;

function maxAgeOf(setCookie: string | undefined): number {
  const match = /Max-Age=(\d+)/.exec(setCookie ?? "");
  if (!match) throw new Error(`no Max-Age in ${setCookie}`);
  return Number(match[1]);
}

/** A route set that reads, writes and waits, for the HTTP stories. */
function sessionRoutes(app: Express) {
  app.post("/set/:key/:value", (req, res) => {
    req.session.set(req.params.key!, req.params.value!);
    res.sendStatus(204);
  });
  app.get("/all", (req, res) => {
    const all: Record<string, unknown> = {};
    for (const key of ["user", ...Array.from({ length: 50 }, (_, index) => `key${index}`)]) {
      if (req.session.has(key)) all[key] = req.session.get(key);
    }
    res.json(all);
  });
  app.get("/read", (req, res) => {
    res.json({ user: req.session.get("user") ?? null });
  });
}

async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describeWithPostgres("the table, as a user sees it in psql", () => {
  const tableName = uniqueName();
  let now = Date.UTC(2030, 0, 1);
  const clock = () => now;
  const storage = storageOn(tableName, { clock, cookie: testCookie({ maxAge: 600, absoluteTimeout: 1200 }) });
  const app = appWithSessions(sessionRoutes, { storage });

  test("has the documented columns and types, a primary key and an index on expires_at", async () => {
    await request(app).post("/set/user/ada");
    const { rows: columns } = await pool.query(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
      [tableName],
    );
    expect(columns).toEqual([
      { column_name: "id_hash", data_type: "text", is_nullable: "NO" },
      { column_name: "data", data_type: "jsonb", is_nullable: "NO" },
      { column_name: "flashed", data_type: "jsonb", is_nullable: "NO" },
      { column_name: "created_at", data_type: "timestamp with time zone", is_nullable: "NO" },
      { column_name: "expires_at", data_type: "timestamp with time zone", is_nullable: "NO" },
    ]);
    const { rows: indexes } = await pool.query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", [tableName]);
    expect(indexes.map((index) => index.indexdef.replace(/ ON \S+/, " ON t"))).toEqual([
      `CREATE INDEX ${tableName}_expires_at_idx ON t USING btree (expires_at)`,
      `CREATE UNIQUE INDEX ${tableName}_pkey ON t USING btree (id_hash)`,
    ]);
  });

  test("the primary key is a SHA-256 of the session id: the id itself is nowhere in the database", async () => {
    const response = await request(app).post("/set/user/grace");
    const id = await idOf(storage, cookiePair(response));
    const hash = createHash("sha256").update(id).digest("base64url");
    const { rows } = await pool.query(`SELECT id_hash, data, t::text AS whole FROM ${quote(tableName)} t WHERE id_hash = $1`, [hash]);
    expect(rows).toHaveLength(1);
    expect(rows[0].data).toEqual({ user: "grace" });
    const { rows: leaks } = await pool.query(`SELECT count(*)::int AS n FROM ${quote(tableName)} t WHERE strpos(t::text, $1) > 0`, [id]);
    expect(leaks[0].n).toBe(0);
  });

  test("expires_at agrees with the cookie's Max-Age after a write and after a renewal, and absoluteTimeout caps both", async () => {
    now = Date.UTC(2030, 0, 1);
    const started = now;
    const first = await request(app).post("/set/user/ada");
    const header = cookiePair(first);
    const hash = createHash("sha256").update(await idOf(storage, header)).digest("base64url");
    const expiresAt = async () => (await pool.query(`SELECT expires_at FROM ${quote(tableName)} WHERE id_hash = $1`, [hash])).rows[0].expires_at as Date;
    const created = (await pool.query(`SELECT created_at FROM ${quote(tableName)} WHERE id_hash = $1`, [hash])).rows[0].created_at as Date;
    expect(created.getTime()).toBe(started);
    expect(maxAgeOf(setCookieFor(first))).toBe(600);
    expect(Math.abs((await expiresAt()).getTime() - (now + 600_000))).toBeLessThan(1000);

    // A read past renewThreshold (half of maxAge) renews: only the expiry moves.
    now += 400_000;
    const renewal = await request(app).get("/read").set("Cookie", header);
    expect(renewal.body).toEqual({ user: "ada" });
    expect(maxAgeOf(setCookieFor(renewal))).toBe(600);
    expect(Math.abs((await expiresAt()).getTime() - (now + 600_000))).toBeLessThan(1000);

    // 800 s after the start, a renewal would reach 1400 s: absoluteTimeout (1200 s) caps cookie and row alike.
    now = started + 800_000;
    const capped = await request(app).get("/read").set("Cookie", cookiePair(renewal));
    expect(maxAgeOf(setCookieFor(capped))).toBe(400);
    expect((await expiresAt()).getTime()).toBe(started + 1_200_000);

    now = started + 1_200_000;
    expect((await request(app).get("/read").set("Cookie", cookiePair(capped))).body).toEqual({ user: null });
  });

  test("a flash is a mark in `flashed`, removed with the value once shown", async () => {
    now = Date.UTC(2030, 0, 1);
    const flashApp = appWithSessions(
      (app) => {
        app.post("/flash", (req, res) => {
          req.session.set("user", "ada");
          req.session.flash("message", "Saved");
          res.sendStatus(204);
        });
        app.get("/show", (req, res) => res.json({ message: req.session.get("message") ?? null }));
      },
      { storage },
    );
    const flashed = await request(flashApp).post("/flash");
    const hash = createHash("sha256").update(await idOf(storage, cookiePair(flashed))).digest("base64url");
    const row = async () => (await pool.query(`SELECT data, flashed FROM ${quote(tableName)} WHERE id_hash = $1`, [hash])).rows[0];
    expect(await row()).toEqual({ data: { user: "ada", message: "Saved" }, flashed: { message: true } });
    expect((await request(flashApp).get("/show").set("Cookie", cookiePair(flashed))).body).toEqual({ message: "Saved" });
    expect(await row()).toEqual({ data: { user: "ada" }, flashed: {} });
  });

});

describeWithPostgres("over real HTTP with Express", () => {
  test("50 concurrent requests of one session, each setting its own key, all keep their key", async () => {
    const tableName = uniqueName();
    const storage = storageOn(tableName);
    const server = await listen(appWithSessions(sessionRoutes, { storage }));
    try {
      const start = await fetch(`${server.url}/set/user/ada`, { method: "POST" });
      const header = start.headers.getSetCookie()[0]!.split(";")[0]!;
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, index) => fetch(`${server.url}/set/key${index}/${index}`, { method: "POST", headers: { cookie: header } })),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(50).fill(204));
      const all = await (await fetch(`${server.url}/all`, { headers: { cookie: header } })).json();
      expect(all).toEqual({ user: "ada", ...Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`key${index}`, String(index)])) });
      const rows = await rowsOf(tableName);
      expect(rows).toHaveLength(1);
      expect(Object.keys(rows[0]!.data)).toHaveLength(51);
    } finally {
      await server.close();
    }
  });

  describe("a session deleted or expired while a request ran", () => {
    /** An app whose POST /slow waits for the test to act on the row before it changes the session. */
    function slowApp(storage: PostgresSessionStorage) {
      let reached!: () => void;
      let proceed!: () => void;
      const arrived = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (proceed = resolve));
      const app = appWithSessions(
        (app) => {
          sessionRoutes(app);
          app.post("/slow", async (req, res) => {
            reached();
            await released;
            req.session.set("cart", ["book"]);
            res.sendStatus(204);
          });
        },
        { storage },
      );
      return { app, arrived, proceed: () => proceed() };
    }

    for (const [what, change] of [
      ["deleted (a logout elsewhere)", "DELETE FROM %t WHERE id_hash = $1"],
      ["expired", "UPDATE %t SET expires_at = now() - interval '1 second' WHERE id_hash = $1"],
    ] as const) {
      test(`${what}: never recreated, and the response has no Set-Cookie`, async () => {
        const tableName = uniqueName();
        const storage = storageOn(tableName);
        const { app, arrived, proceed } = slowApp(storage);
        const start = await request(app).post("/set/user/ada");
        const header = cookiePair(start);
        const hash = createHash("sha256").update(await idOf(storage, header)).digest("base64url");
        const slow = request(app).post("/slow").set("Cookie", header).then((response) => response);
        await arrived;
        await pool.query(change.replace("%t", quote(tableName)), [hash]);
        proceed();
        const response = await slow;
        expect(response.status).toBe(204);
        expect(setCookies(response)).toEqual([]);
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${quote(tableName)} WHERE expires_at > now() OR data ? 'cart'`);
        expect(rows[0].n).toBe(0);
      });
    }
  });

  test("nothing is written for requests that changed nothing; a renewal writes the expiry alone", async () => {
    const tableName = uniqueName();
    await storageOn(tableName).prune(); // creates the table before the counting starts
    let now = Date.UTC(2030, 0, 1);
    const counted = countingPool(pool);
    const storage = createPostgresSessionStorage({ pool: counted.pool, cookie, tableName, pruneInterval: false, clock: () => now });
    const app = appWithSessions(sessionRoutes, { storage });
    const header = cookiePair(await request(app).post("/set/user/ada"));
    expect(counted.statements).toEqual(["INSERT"]);

    for (let index = 0; index < 10; index++) {
      const response = await request(app).get("/read").set("Cookie", header);
      expect(response.body).toEqual({ user: "ada" });
      expect(setCookies(response)).toEqual([]);
    }
    // The same value set again is no change either.
    await request(app).post("/set/user/ada").set("Cookie", header);
    expect(counted.statements).toEqual(["INSERT", ...Array(11).fill("SELECT")]);

    now += 400_000; // past renewThreshold
    await request(app).get("/read").set("Cookie", header);
    expect(counted.statements.slice(12)).toEqual(["SELECT", "UPDATE"]);
    expect(counted.texts.at(-1)).toMatch(/^UPDATE \S+ SET expires_at = \$2 WHERE/);
  });

  test("the example app runs on PostgreSQL: log in, a flash shown once, log out", async () => {
    const tableName = uniqueName();
    const app = createApp({ secret: testSecret, secure: false, storage: (cookie) => storageOn(tableName, { cookie }) });
    const login = await request(app).post("/login").type("form").send({ name: "Ada" });
    expect(login.status).toBe(302);
    const welcome = await request(app).get("/").set("Cookie", cookiePair(login));
    expect(welcome.text).toContain("Welcome back, Ada");
    const again = await request(app).get("/").set("Cookie", cookiePair(login));
    expect(again.text).not.toContain("Welcome back");
    expect(again.text).toContain("Signed in as <strong>Ada</strong>");
    const logout = await request(app).post("/logout").set("Cookie", cookiePair(login));
    expect(logout.status).toBe(302);
    const rows = await rowsOf(tableName);
    expect(rows.map((row) => row.data)).toEqual([{ message: "Signed out" }]);
  });
});

describeWithPostgres("creating the table", () => {
  test("several storages (several app servers) creating it at once all succeed", async () => {
    const tableName = uniqueName();
    const pools = Array.from({ length: 6 }, () => testPool({ max: 2 }));
    try {
      const results = await Promise.all(
        pools.map(async (ownPool) => {
          const storage = createPostgresSessionStorage({ pool: ownPool, cookie, tableName, createTable: true, pruneInterval: false });
          const session = await intoSessionStore(storage);
          session.set("user", "ada");
          return session.commit();
        }),
      );
      expect(results.every((header) => header.startsWith("sid="))).toBe(true);
      expect(await rowsOf(tableName)).toHaveLength(6);
    } finally {
      created.push({ tableName });
      await Promise.all(pools.map((ownPool) => ownPool.end()));
    }
  });

  test("in a schema, with names that need quoting", async () => {
    const schemaName = `${uniqueName("schema")} "quoted"; DROP TABLE x; --`;
    const tableName = `odd "table" name`;
    await pool.query(`CREATE SCHEMA ${quote(schemaName)}`);
    const storage = storageOn(tableName, { schemaName });
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    const header = pairOf(await session.commit());
    expect((await intoSessionStore(storage, header)).get("user")).toBe("ada");
    expect((await rowsOf(tableName, schemaName)).map((row) => row.data)).toEqual([{ user: "ada" }]);
    expect(await storage.prune()).toBe(0);
  });

  test("statements are prepared under names derived from their text, or sent unnamed with preparedStatements: false", async () => {
    const tableName = uniqueName();
    await storageOn(tableName).prune(); // creates the table
    for (const preparedStatements of [true, false]) {
      const counted = countingPool(pool);
      const storage = createPostgresSessionStorage({ pool: counted.pool, cookie, tableName, pruneInterval: false, preparedStatements });
      const session = await intoSessionStore(storage);
      session.set("user", "ada");
      const reopened = await intoSessionStore(storage, pairOf(await session.commit()));
      expect(reopened.get("user")).toBe("ada");
      expect(counted.statements).toEqual(["INSERT", "SELECT"]);
      if (preparedStatements) expect(counted.names).toEqual([expect.stringMatching(/^remastered_sessions_[0-9a-f]{24}$/), expect.stringMatching(/^remastered_sessions_/)]);
      else expect(counted.names).toEqual([undefined, undefined]);
    }
  });

  test("without createTable, a missing table is a SessionStorageError that says how to fix it", async () => {
    const storage = createPostgresSessionStorage({ pool, cookie, tableName: uniqueName(), pruneInterval: false });
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    const error = await session.commit().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "SessionStorageError", code: "ERR_SESSION_STORAGE", operation: "write" });
    expect((error as Error).message).toMatch(/does not exist: pass createTable: true, or create it with the SQL in the README/);
  });
});

describeWithPostgres("pruning", () => {
  /** `count` expired rows inserted directly (as sessions long gone would be). */
  async function insertExpired(tableName: string, count: number) {
    await pool.query(
      `INSERT INTO ${quote(tableName)} (id_hash, data, created_at, expires_at) ` +
        `SELECT md5(random()::text || n), '{"user":"gone"}', now() - interval '2 hours', now() - interval '1 hour' FROM generate_series(1, $1) n`,
      [count],
    );
  }
  const countRows = async (tableName: string) => (await pool.query(`SELECT count(*)::int AS n FROM ${quote(tableName)}`)).rows[0].n as number;

  test("expired rows never load, and prune() deletes them (in batches) and says how many", async () => {
    const tableName = uniqueName();
    let now = Date.UTC(2030, 0, 1);
    const storage = storageOn(tableName, { clock: () => now });
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    const header = pairOf(await session.commit());
    await insertExpired(tableName, 12_000);

    now += 601_000;
    expect((await intoSessionStore(storage, header)).has("user")).toBe(false);
    expect(await storage.prune()).toBe(12_001);
    expect(await countRows(tableName)).toBe(0);
    expect(await storage.prune()).toBe(0);
  });

  test("a server that finds another one pruning skips, and two pruning at once delete each row once", async () => {
    const tableName = uniqueName();
    const [first, second] = [storageOn(tableName), storageOn(tableName)];
    await first.prune(); // creates the table
    await insertExpired(tableName, 8_000);

    const holder = await pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1::bigint)", [sessionTable({ tableName, prepared: false }).pruneLockKey]);
      expect(await first.prune()).toBe(0);
      expect(await countRows(tableName)).toBe(8_000);
    } finally {
      await holder.query("COMMIT");
      holder.release();
    }

    const [a, b] = await Promise.all([first.prune(), second.prune()]);
    expect(a + b).toBe(8_000);
    expect(await countRows(tableName)).toBe(0);
  });

  test("a prune that fails is a typed error: a hung server times out, a missing table says how to fix it", async () => {
    const hung = createPostgresSessionStorage({ pool: silentPool, cookie, tableName: uniqueName(), pruneInterval: false, timeout: 300 });
    const started = Date.now();
    await expect(hung.prune()).rejects.toMatchObject({ name: "SessionStorageTimeoutError", code: "ERR_SESSION_STORAGE_TIMEOUT", operation: "prune" });
    expect(Date.now() - started).toBeLessThan(1_300);
    const missing = createPostgresSessionStorage({ pool, cookie, tableName: uniqueName(), pruneInterval: false });
    await expect(missing.prune()).rejects.toMatchObject({ code: "ERR_SESSION_STORAGE", message: expect.stringMatching(/does not exist: pass createTable: true/) });
  });

  test("a background prune that fails is a process warning, and it tries again", async () => {
    // Spied, not listened to: under jest the "warning" event fires on the real process, not the test's.
    const emitWarning = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const storage = createPostgresSessionStorage({ pool, cookie, tableName: uniqueName(), pruneInterval: 1 });
    try {
      await eventually(async () => emitWarning.mock.calls.length >= 2, 4_000, "two warnings: the first run and the next");
      expect(emitWarning.mock.calls[0]).toEqual([
        expect.stringMatching(/^Pruning expired sessions failed; the next run tries again: .*does not exist/),
        { type: "SessionPruneWarning", code: "ERR_SESSION_STORAGE" },
      ]);
    } finally {
      await storage.close();
      emitWarning.mockRestore();
    }
  });

  test("background pruning deletes expired rows on its interval, and close() stops it", async () => {
    const tableName = uniqueName();
    const storage = storageOn(tableName, { pruneInterval: 1 });
    await storageOn(tableName).prune(); // creates the table
    await insertExpired(tableName, 10);
    await eventually(async () => (await countRows(tableName)) === 0, 3_000, "background pruning");

    await storage.close();
    await insertExpired(tableName, 10);
    await new Promise((resolve) => setTimeout(resolve, 1_600)); // past the longest jittered wait
    expect(await countRows(tableName)).toBe(10);
  });
});

describeWithPostgres("hostile keys and values", () => {
  const tableName = uniqueName();
  const storage = storageOn(tableName);

  async function roundTrip(entries: [string, Serializable][]) {
    const session = await intoSessionStore(storage);
    for (const [key, value] of entries) session.set(key, value);
    const header = pairOf(await session.commit());
    return intoSessionStore(storage, header);
  }

  test("quotes, SQL, operators, 10 kB strings, unicode and prototype names round-trip", async () => {
    const entries: [string, Serializable][] = [
      ["'; DROP TABLE sessions; --", "Robert'); DROP TABLE students;--"],
      ['"quoted" \\ key', { '"': "'", "\\": "\\\\", "$1": "::jsonb" }],
      ["__proto__", JSON.parse('{"__proto__": "not a prototype", "constructor": "ordinary"}')],
      ["constructor", "ordinary"],
      ["big", "x".repeat(10_240)],
      ["k".repeat(10_240), "a 10 kB key"],
      ["unicode", "Grüße 世界 👋🏽 \u2028\u2029 \u0001 \t\n"],
      ["", "empty key"],
      ["{}", ["||", "-", "#-", "?|"]],
      ["nested", JSON.parse('{"a": [{"b": [{"c": null}]}], "__proto__": [1]}')],
    ];
    const reopened = await roundTrip(entries);
    for (const [key, value] of entries) expect(reopened.get(key)).toEqual(value);
    expect(Object.keys(reopened.get("__proto__") as object)).toEqual(["__proto__", "constructor"]);

    // Unset and flash work on hostile keys too.
    reopened.unset("'; DROP TABLE sessions; --");
    reopened.flash('"quoted" \\ key', "flash");
    const header = pairOf(await reopened.commit());
    const again = await intoSessionStore(storage, header);
    expect(again.has("'; DROP TABLE sessions; --")).toBe(false);
    expect(again.get('"quoted" \\ key')).toBe("flash");
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${quote(tableName)}`)).rows[0].n).toBeGreaterThan(0);
  });

  test.each([
    ["a NUL character in a value", "note", "a\u0000b", "note"],
    ["a NUL character deep inside", "profile", { names: ["ok", "b\u0000"] }, "profile.names[1]"],
    ["a NUL character in a property name", "profile", { "x\u0000": 1 }, "profile.x\u0000"],
    ["a NUL character in the key", "key\u0000", "value", "key\u0000"],
    ["half of a surrogate pair", "emoji", "cut \ud83d", "emoji"],
    ["a lone low surrogate in the key", "\udc00", 1, "\udc00"],
  ])("%s is refused with SessionValueNotSerializableError naming the key, and the session goes on", async (_what, key, value, path) => {
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    const header = pairOf(await session.commit());
    const next = await intoSessionStore(storage, header);
    next.set(key, value);
    const error = await next.commit().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionValueNotSerializableError);
    expect(error).toMatchObject({ code: "ERR_SESSION_VALUE_NOT_SERIALIZABLE", key, path });
    // A new session with the value is refused the same way, before any SQL.
    const fresh = await intoSessionStore(storage);
    fresh.set(key, value);
    await expect(fresh.commit()).rejects.toBeInstanceOf(SessionValueNotSerializableError);
    next.unset(key);
    next.set("after", true);
    await next.commit();
    expect((await intoSessionStore(storage, header)).get("after")).toBe(true);
  });

  test("a hostile cookie is never looked up: no statement is sent", async () => {
    const counted = countingPool(pool);
    const quiet = createPostgresSessionStorage({ pool: counted.pool, cookie, tableName, pruneInterval: false });
    for (const header of ["sid=' OR 1=1 --", `sid=${"A".repeat(5000)}`, "sid=%00", "__proto__=x; sid=../../etc/passwd"]) {
      expect((await intoSessionStore(quiet, header)).has("user")).toBe(false);
    }
    expect(counted.statements).toEqual([]);
  });
});

describe("options are checked at start-up", () => {
  const valid = { pool, cookie };
  test.each([
    ["an unknown option, with a suggestion", { ...valid, tablename: "x" }, "tablename", /did you mean `tableName`/],
    ["no pool", { cookie }, "pool", /expected a pg\.Pool/],
    ["a pool that is not one", { ...valid, pool: "postgres://localhost" }, "pool", /expected a pg\.Pool/],
    ["an empty table name", { ...valid, tableName: "" }, "tableName", /1 to 48 bytes/],
    ["a table name PostgreSQL would cut", { ...valid, tableName: "t".repeat(49) }, "tableName", /1 to 48 bytes/],
    ["a NUL in the schema name", { ...valid, schemaName: "a\u0000b" }, "schemaName", /without NUL/],
    ["createTable not a boolean", { ...valid, createTable: "yes" }, "createTable", /true or false/],
    ["a prune interval under a second", { ...valid, pruneInterval: 0.5 }, "pruneInterval", /from 1 to 86400.*or 0 or false/],
    ["a prune interval as text", { ...valid, pruneInterval: "300" }, "pruneInterval", /seconds between background prunes/],
    ["a negative timeout", { ...valid, timeout: -1 }, "timeout", /milliseconds, 1 or more/],
    ["a short secret", { ...valid, cookie: { name: "sid", secret: "short" } }, "cookie.secret", /./],
  ])("%s", (_what, options, option, message) => {
    let error: unknown;
    try {
      createPostgresSessionStorage(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionConfigError);
    expect(error).toMatchObject({ code: "ERR_SESSION_CONFIG", option });
    expect((error as Error).message).toMatch(message);
  });

  test("the README's SQL is what createTable runs", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### `createPostgresSessionStorage("));
    const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    const definition = sessionTable({ tableName: "sessions", prepared: false }).definition.map((statement) => `${statement};`).join("\n");
    expect(sql?.trim()).toBe(definition);
  });

  test("pruning can be turned off with 0 or false; PostgresSessionStorage is the same function", async () => {
    expect(PostgresSessionStorage).toBe(createPostgresSessionStorage);
    for (const pruneInterval of [0, false] as const) {
      const storage = createPostgresSessionStorage({ pool, cookie, pruneInterval });
      await storage.close();
    }
  });
});
