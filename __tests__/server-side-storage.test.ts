// The part the Redis and PostgreSQL storages share, over records kept in a Map: what it
// asks of the server, and what it never does (write when nothing changed, adopt an id,
// store an id in clear, write back a record that is gone).
import { describe, expect, test } from "@jest/globals";
import { applyChanges, intoSessionStore, type Clock, type SessionSnapshot } from "../lib/index.js";
import { createServerSideSessionStorage, type SessionRecords } from "../lib/storages/server-side-session-storage.js";
import type { GiveUpSignal } from "../lib/storage-timeout.js";
import { testSessionStorage } from "../lib/testing/index.js";
import { testCookie } from "./fixtures.js";

type StoredRecord = { snapshot: SessionSnapshot; expiresAt: number };

/** Records in a Map, expiring as a server would, counting every call. */
function mapRecords(clock: Clock) {
  const records = new Map<string, StoredRecord>();
  const calls: string[] = [];
  const live = (key: string, now: number) => {
    const record = records.get(key);
    return record && record.expiresAt > now ? record : undefined;
  };
  const copy = (snapshot: SessionSnapshot): SessionSnapshot => ({ content: new Map(snapshot.content), flashedKeys: new Set(snapshot.flashedKeys) });
  const api: SessionRecords = {
    async read(key, now) {
      calls.push("read");
      const record = live(key, now);
      return record && copy(record.snapshot);
    },
    async create(key, snapshot, { expiresAt }) {
      calls.push("create");
      records.set(key, { snapshot: copy(snapshot), expiresAt });
    },
    async update(key, changes, { expiresAt }, now) {
      calls.push(changes.set.size + changes.unset.length + changes.flashed.length + changes.unflashed.length === 0 ? "renew" : "update");
      const record = live(key, now);
      if (!record) return false;
      applyChanges(record.snapshot, changes);
      record.expiresAt = expiresAt;
      return true;
    },
    async delete(key) {
      calls.push("delete");
      records.delete(key);
    },
    async move(oldKey, newKey, snapshot, { expiresAt }) {
      calls.push("move");
      records.delete(oldKey);
      records.set(newKey, { snapshot: copy(snapshot), expiresAt });
    },
  };
  void clock;
  return { api, records, calls };
}

const timeouts = { maxAge: 600, absoluteTimeout: 3600 };
const cookie = testCookie(timeouts);

function storageOver(records: SessionRecords, clock?: Clock, timeout = 1000) {
  return createServerSideSessionStorage({ cookie, records, timeout, name: "the test server", clock });
}

testSessionStorage("a server-side storage over records in a Map", {
  ...timeouts,
  createStorage: (clock) => storageOver(mapRecords(clock).api, clock),
  unresponsive: {
    timeout: 200,
    createStorage: (clock) => {
      const never = () => new Promise<never>(() => undefined);
      return storageOver({ read: never, create: never, update: never, delete: never, move: never }, clock, 200);
    },
  },
});

const cookiePairOf = (setCookie: string) => setCookie.split(";")[0]!;

describe("a server-side storage", () => {
  test("keys its records by a hash of the id: the id the cookie carries is nowhere on the server", async () => {
    const { api, records } = mapRecords(Date.now);
    const storage = storageOver(api);
    const session = await intoSessionStore(storage);
    session.set("user", "ada");
    await session.commit();
    const [, metadata] = await storage.fromHeader(cookiePairOf(await session.commit()));
    const id = metadata!.inner.id!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([...records.keys()]).toHaveLength(1);
    expect(records.has(id)).toBe(false);
  });

  test("asks the server nothing for a request that changed nothing, and only the expiry at renewal", async () => {
    let now = Date.UTC(2030, 0, 1);
    const clock = () => now;
    const { api, calls } = mapRecords(clock);
    const storage = storageOver(api, clock);
    const first = await intoSessionStore(storage);
    first.set("user", "ada");
    const header = cookiePairOf(await first.commit());
    expect(calls).toEqual(["create"]);

    const reader = await intoSessionStore(storage, header);
    reader.get("user");
    await reader.commit();
    expect(calls).toEqual(["create", "read"]);

    now += 400_000; // past renewThreshold (half of maxAge): renewal is due
    const renewing = await intoSessionStore(storage, header);
    const renewed = await renewing.commit();
    expect(calls).toEqual(["create", "read", "read", "renew"]);
    expect(renewed).toMatch(/Max-Age=600;/);
  });

  test("never looks up a cookie value that cannot be one of its ids", async () => {
    const { api, calls } = mapRecords(Date.now);
    const storage = storageOver(api);
    for (const header of ["sid=garbage", "sid=", "sid=../../etc/passwd", `sid=${"A".repeat(5000)}`]) {
      const session = await intoSessionStore(storage, header);
      expect(session.has("user")).toBe(false);
    }
    expect(calls).toEqual([]);
  });

  test("a server failure is a SessionStorageError naming the server and the operation, with the cause", async () => {
    const failing = mapRecords(Date.now).api;
    failing.create = async () => {
      throw new Error("connection refused");
    };
    const session = await intoSessionStore(storageOver(failing));
    session.set("user", "ada");
    const error = await session.commit().catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "SessionStorageError",
      code: "ERR_SESSION_STORAGE",
      operation: "write",
      message: "the test server failed to write the session: connection refused",
    });
    expect((error as Error).cause).toEqual(new Error("connection refused"));
  });
});

describe("what a server-side storage hands its records", () => {
  test("a lifetime that lasts as long as the cookie is accepted: its expiry plus clockTolerance", async () => {
    let now = Date.UTC(2030, 0, 1);
    const clock = () => now;
    const { api, records } = mapRecords(clock);
    const storage = createServerSideSessionStorage({
      cookie: testCookie({ maxAge: 600, absoluteTimeout: 3600, clockTolerance: 30 }),
      records: api,
      timeout: 1000,
      name: "the test server",
      clock,
    });
    const first = await intoSessionStore(storage);
    first.set("user", "ada");
    const header = cookiePairOf(await first.commit());
    expect([...records.values()][0]!.expiresAt).toBe(now + 600_000 + 30_000);

    now += 610_000; // past the cookie's expiry, within the tolerance
    const late = await intoSessionStore(storage, header);
    expect(late.get("user")).toBe("ada");
    late.set("user", "bob");
    expect(await late.commit()).toMatch(/^sid=/);
  });

  test("a signal, aborted when the storage gives up on the call, so that the call can stop", async () => {
    let seen: GiveUpSignal | undefined;
    const hanging: SessionRecords = {
      ...mapRecords(Date.now).api,
      create: (_key, _snapshot, _lifetime, signal) => {
        seen = signal;
        return new Promise<void>(() => undefined);
      },
    };
    const session = await intoSessionStore(storageOver(hanging, undefined, 100));
    session.set("user", "ada");
    const error = await session.commit().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "ERR_SESSION_STORAGE_TIMEOUT", operation: "write" });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });
});
