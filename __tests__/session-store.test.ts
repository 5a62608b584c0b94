import { describe, expect, test } from "@jest/globals";
import {
  intoSessionStore,
  type Serializable,
  type SessionStorage,
  type StoredSession,
} from "../lib/index.js";

/**
 * A do-it-yourself storage written against exactly Remastered's interface: the header
 * is the JSON of [content entries, flashed keys]; each toHeader call is recorded.
 */
function jsonStorage() {
  const written: StoredSession<Serializable>[] = [];
  const storage: SessionStorage<Serializable> = {
    async fromHeader(header) {
      const [entries, flashed]: [[string, Serializable][], string[]] = header ? JSON.parse(header) : [[], []];
      return [{ content: new Map(entries), flashedKeys: new Set(flashed) }];
    },
    async toHeader(session) {
      written.push({ content: new Map(session.content), flashedKeys: new Set(session.flashedKeys) });
      return JSON.stringify([[...session.content], [...session.flashedKeys]]);
    },
  };
  return { storage, written };
}

describe("the Map-like session store", () => {
  test("has, get, set and unset behave like a Map", async () => {
    const { storage } = jsonStorage();
    const session = await intoSessionStore(storage);
    expect(session.has("a")).toBe(false);
    expect(session.get("a")).toBeUndefined();
    session.set("a", { nested: [1, "two"] });
    expect(session.has("a")).toBe(true);
    expect(session.get("a")).toEqual({ nested: [1, "two"] });
    session.unset("a");
    expect(session.has("a")).toBe(false);
  });

  test("commit resolves to the storage's header, and a new store reads it back", async () => {
    const { storage } = jsonStorage();
    const session = await intoSessionStore(storage);
    session.set("count", 3);
    session.flash("message", "hi");
    const header = await session.commit();
    const reopened = await intoSessionStore(storage, header);
    expect(reopened.get("count")).toBe(3);
    expect(reopened.get("message")).toBe("hi");
  });

  test("a shown flash is gone from what the storage writes at commit", async () => {
    const { storage, written } = jsonStorage();
    const first = await intoSessionStore(storage);
    first.flash("message", "hi");
    first.set("kept", true);
    const header = await first.commit();
    const second = await intoSessionStore(storage, header);
    expect(second.get("message")).toBe("hi");
    await second.commit();
    const last = written.at(-1)!;
    expect([...last.content.keys()]).toEqual(["kept"]);
    expect(last.flashedKeys.size).toBe(0);
  });

  test("has() never consumes a flash", async () => {
    const { storage, written } = jsonStorage();
    const first = await intoSessionStore(storage);
    first.flash("message", "hi");
    const second = await intoSessionStore(storage, await first.commit());
    expect(second.has("message")).toBe(true);
    await second.commit();
    expect(written.at(-1)!.content.get("message")).toBe("hi");
  });

  test("commits run in order: the last commit writes the latest state", async () => {
    const { storage } = jsonStorage();
    const session = await intoSessionStore(storage);
    session.set("n", 1);
    const first = session.commit();
    session.set("n", 2);
    const second = session.commit();
    const [, latest] = await Promise.all([first, second]);
    expect((await intoSessionStore(storage, latest)).get("n")).toBe(2);
  });

  test("a storage whose fromHeader returns a malformed session fails with a message that says what is expected", async () => {
    const broken = {
      fromHeader: async () => [{ content: {}, flashedKeys: [] }],
      toHeader: async () => "",
    } as unknown as SessionStorage<unknown>;
    await expect(intoSessionStore(broken)).rejects.toThrow(/fromHeader\(\) must resolve to \[\{ content: Map, flashedKeys: Set \}/);
  });
});

describe("values changed in place, with a storage that cannot tell (no hasChanged)", () => {
  /** A session as the storage hands it out; its `profile` counts how often it is serialised. */
  function storageWithProfile() {
    const serialised = { count: 0 };
    const profile = { name: "Ada", tags: ["admin"], toJSON() { serialised.count++; return { name: this.name, tags: this.tags }; } };
    const { storage, written } = jsonStorage();
    const withProfile: SessionStorage<Serializable> = {
      async fromHeader() {
        return [{ content: new Map<string, Serializable>([["visits", 3], ["profile", profile as unknown as Serializable]]), flashedKeys: new Set() }];
      },
      toHeader: storage.toHeader,
    };
    return { storage: withProfile, written, profile, serialised };
  }

  const pending = (session: unknown) => (session as { hasPendingChanges(): boolean }).hasPendingChanges();

  test("an object read and changed in place must be committed; one read and left alone need not be", async () => {
    const { storage, profile } = storageWithProfile();
    const untouched = await intoSessionStore(storage);
    untouched.get("profile");
    expect(pending(untouched)).toBe(false);

    const changed = await intoSessionStore(storage);
    (changed.get("profile") as { tags: string[] }).tags.push("editor");
    expect(pending(changed)).toBe(true);
    profile.tags.pop();
  });

  test("an object given to set(), committed, then changed in place must be committed again", async () => {
    const { storage, written } = jsonStorage();
    const session = await intoSessionStore(storage);
    const cart = { items: ["apple"] };
    session.set("cart", cart);
    await session.commit();
    expect(pending(session)).toBe(false);
    cart.items.push("pear");
    expect(pending(session)).toBe(true);
    await session.commit();
    expect(written.at(-1)?.content.get("cart")).toEqual({ items: ["apple", "pear"] });
  });

  test("a request that reads only strings and numbers never serialises the session to compare it", async () => {
    const { storage, serialised } = storageWithProfile();
    const session = await intoSessionStore(storage);
    expect(session.get("visits")).toBe(3);
    expect(session.has("profile")).toBe(true);
    expect(pending(session)).toBe(false);
    expect(serialised.count).toBe(0);
  });
});
