// What a storage wrapped by withEncryptedCookies receives and is asked: the session's lifetime
// on every call, and, for regenerate(), one atomic move when it offers one, else a write of the
// new identity before the old one is forgotten.
import { describe, expect, test } from "@jest/globals";
import {
  intoSessionStore,
  withEncryptedCookies,
  type RegeneratedSession,
  type SessionLifetime,
  type SessionStorage,
  type StoredSession,
} from "../lib/index.js";
import { testCookie } from "./fixtures.js";

type Call = { method: string; value?: string; lifetime?: SessionLifetime };

/** A storage behind the cookie that keeps sessions by id in a Map and records every call. */
function recordingStorage({ atomicMove }: { atomicMove: boolean }) {
  const calls: Call[] = [];
  const sessions = new Map<string, StoredSession<unknown>>();
  let nextId = 1;
  const storage: SessionStorage<unknown, string> = {
    async fromHeader(id, lifetime) {
      calls.push({ method: "fromHeader", value: id, lifetime });
      const known = id === undefined ? undefined : sessions.get(id);
      return known ? [known, id!] : [{ content: new Map(), flashedKeys: new Set() }, `id-${nextId++}`];
    },
    async toHeader(session, id, lifetime) {
      calls.push({ method: "toHeader", value: id, lifetime });
      sessions.set(id, session);
      return id;
    },
    async destroy(id, lifetime) {
      calls.push({ method: "destroy", value: id, lifetime });
      sessions.delete(id);
    },
  };
  if (atomicMove) {
    storage.regenerate = async (session, id, lifetime): Promise<RegeneratedSession<string>> => {
      calls.push({ method: "regenerate", value: id, lifetime });
      const newId = `id-${nextId++}`;
      sessions.delete(id);
      sessions.set(newId, session);
      return { header: newId, metadata: newId };
    };
  }
  return { storage, calls };
}

const maxAgeOf = (setCookie: string) => Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
const pairOf = (setCookie: string) => setCookie.split(";")[0]!;

describe("the wrapped storage learns the session's lifetime", () => {
  test("on write it gets the expiry the cookie will carry; on read, the cookie's; and renewal moves both", async () => {
    let now = Date.UTC(2030, 0, 1);
    const { storage, calls } = recordingStorage({ atomicMove: false });
    const wrapped = withEncryptedCookies({ cookie: testCookie({ maxAge: 600, absoluteTimeout: 3600 }), storage, clock: () => now });

    const first = await intoSessionStore(wrapped);
    first.set("user", "ada");
    const header = await first.commit();
    const write = calls.find((call) => call.method === "toHeader")!;
    expect(write.lifetime).toEqual({ createdAt: now, expiresAt: now + 600_000 });
    expect(maxAgeOf(header)).toBe(600);

    now += 400_000; // past renewThreshold: renewal is due
    calls.length = 0;
    const later = await intoSessionStore(wrapped, pairOf(header));
    expect(calls[0]).toEqual({ method: "fromHeader", value: "id-1", lifetime: { createdAt: Date.UTC(2030, 0, 1), expiresAt: Date.UTC(2030, 0, 1) + 600_000 } });
    const renewed = await later.commit();
    expect(calls[1]!.lifetime).toEqual({ createdAt: Date.UTC(2030, 0, 1), expiresAt: now + 600_000 });
    expect(maxAgeOf(renewed)).toBe(600);

    calls.length = 0;
    const leaving = await intoSessionStore(wrapped, pairOf(renewed));
    leaving.destroy();
    await leaving.commit();
    expect(calls.map((call) => call.method)).toEqual(["fromHeader", "destroy", "fromHeader"]);
    expect(calls[1]!.lifetime).toEqual({ createdAt: Date.UTC(2030, 0, 1), expiresAt: now + 600_000 });
  });
});

/** The calls a login's regenerate() makes to the storage, after the session was stored once. */
async function callsOfRegenerate({ atomicMove }: { atomicMove: boolean }, clock?: () => number) {
  const { storage, calls } = recordingStorage({ atomicMove });
  const wrapped = withEncryptedCookies({ cookie: testCookie(), storage, clock });
  const first = await intoSessionStore(wrapped);
  first.set("user", "ada");
  const header = await first.commit();
  calls.length = 0;
  const login = await intoSessionStore(wrapped, pairOf(header));
  login.regenerate();
  await login.commit();
  return calls;
}

describe("regenerate()", () => {
  test("with the storage's own regenerate: one call, which gets the old identity and the new session's lifetime", async () => {
    const now = Date.UTC(2030, 0, 1);
    const calls = await callsOfRegenerate({ atomicMove: true }, () => now);
    expect(calls.map((call) => call.method)).toEqual(["fromHeader", "regenerate"]);
    expect(calls[1]).toMatchObject({ value: "id-1", lifetime: { createdAt: now, expiresAt: now + 3_600_000 } });
  });

  test("without it: the new identity is written first, the old one forgotten after, so a failure in between loses nothing", async () => {
    const calls = await callsOfRegenerate({ atomicMove: false });
    expect(calls.map((call) => `${call.method} ${call.value ?? ""}`.trim())).toEqual([
      "fromHeader id-1",
      "fromHeader", // a fresh identity
      "toHeader id-2", // the data under it
      "destroy id-1", // then the old one goes
    ]);
  });
});
