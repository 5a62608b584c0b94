import assert from "node:assert/strict";
import type { Clock } from "../session-expiry.js";
import type { SessionStorage } from "../session-storage.js";
import { intoSessionStore, type SessionStore } from "../session-store.js";

type TestFunction = (name: string, run: () => Promise<void>) => unknown;
type DescribeFunction = (name: string, define: () => void) => unknown;

/**
 * What `testSessionStorage` needs to know of your storage.
 *
 * @example
 * const options: StorageConformanceOptions = {
 *   maxAge: 600,
 *   createStorage: (clock) => createMyStorage({ cookie: { name: "sid", secret, maxAge: 600 }, clock }),
 * };
 * testSessionStorage("my storage", options);
 */
export type StorageConformanceOptions = {
  /**
   * Creates a fresh storage that reads time from `clock` (ms since the epoch); the kit
   * moves that clock to test expiry without waiting. Called once per check.
   */
  createStorage(clock: Clock): SessionStorage<any, any> | Promise<SessionStorage<any, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The idle timeout (`maxAge`, seconds) the storage was created with. Default 3600. */
  maxAge?: number;
  /** The absolute timeout (seconds) the storage was created with. Default 43200. */
  absoluteTimeout?: number;
  /**
   * The storage keeps no server-side state (the cookie storage): an old cookie cannot
   * be revoked and concurrent commits cannot merge, so those checks are skipped.
   */
  stateless?: boolean;
  /**
   * Whether two concurrent commits that change different keys both survive. Default
   * `true` unless `stateless`; a storage that writes whole sessions sets `false`.
   */
  mergesConcurrentCommits?: boolean;
  /**
   * A storage like `createStorage`'s (same cookie name and secret, reading time from
   * `clock`) whose server never answers, e.g. a client pointed at a port that accepts
   * connections and stays silent, and the `timeout` (ms) it was given. The kit checks that
   * reading and committing fail within that bound (plus a margin) with an error whose
   * `code` starts with `ERR_SESSION_`.
   */
  unresponsive?: {
    /** Creates a storage pointed at a server that accepts connections and never answers. */
    createStorage(clock: Clock): SessionStorage<any, any> | Promise<SessionStorage<any, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    /** The storage's own bound, in ms: reads and commits must fail within it. */
    timeout: number;
  };
  /** Turns a committed header into the next request's header. Default: a `Set-Cookie`'s `name=value`. */
  toRequestHeader?(responseHeader: string): string | undefined;
  /** The test framework's `describe` and `test`. Default: the globals (jest, vitest); pass node:test's explicitly. */
  describe?: DescribeFunction;
  /** The test framework's `test` (or `it`). Default: the global one. */
  test?: TestFunction;
};

/** Values of every JSON shape, including the edges where a careless encoding loses data. */
const roundTripValues: Record<string, unknown> = {
  "empty string": "",
  unicode: "Grüße, 世界 👋🏽 \u2028 \\ \" '",
  "zero": 0,
  "negative": -1.5,
  "max safe integer": Number.MAX_SAFE_INTEGER,
  "min safe integer": Number.MIN_SAFE_INTEGER,
  "tiny": 5e-324,
  "huge": 1.7976931348623157e308,
  "precise": 0.1 + 0.2,
  "true": true,
  "false": false,
  "null": null,
  "empty array": [],
  "nested arrays": [[1, [2, [3, []]]], ["a"]],
  "empty object": {},
  "nested object": { user: { id: 1, roles: ["admin"], profile: { name: "Ada", bio: null } } },
  "key-like text": "__proto__",
};

/**
 * Checks that a storage honours the session contract: every JSON shape round-trips,
 * values changed in place are written, flashes are shown once, unset, destroy and
 * regenerate work (old identities die), idle and absolute timeouts expire sessions,
 * concurrent commits of different keys both survive, hostile headers read as empty
 * sessions, a session destroyed or moved while a request ran is never written back
 * (the login race), and, given an unresponsive server, calls fail within the bound.
 *
 * @example
 * // jest
 * testSessionStorage("my storage", { createStorage: (clock) => createMyStorage({ cookie, clock }) });
 * // node:test
 * import { describe, test } from "node:test";
 * testSessionStorage("my storage", { createStorage, describe, test });
 */
export function testSessionStorage(name: string, options: StorageConformanceOptions): void {
  const describe = options.describe ?? (globalThis as { describe?: DescribeFunction }).describe;
  const test = options.test ?? (globalThis as { test?: TestFunction }).test;
  if (!describe || !test) {
    throw new TypeError("testSessionStorage needs `describe` and `test`: pass them from your framework, e.g. import { describe, test } from \"node:test\".");
  }
  const maxAge = (options.maxAge ?? 3600) * 1000;
  const absoluteTimeout = (options.absoluteTimeout ?? 43_200) * 1000;
  const toRequestHeader = options.toRequestHeader ?? cookiePairOf;

  /** A storage under test and a clock the check moves. */
  async function setUp() {
    let now = Date.UTC(2030, 0, 1);
    const storage = await options.createStorage(() => now);
    const open = (header?: string): Promise<SessionStore<unknown>> => intoSessionStore(storage, header);
    const commitAndReopenHeader = async (session: SessionStore<unknown>) => toRequestHeader(await session.commit());
    return {
      clock: () => now,
      open,
      commitAndReopenHeader,
      advance(ms: number) {
        now += ms;
      },
    };
  }

  describe(`${name} honours the session storage contract`, () => {
    test("a new session is empty", async () => {
      const { open } = await setUp();
      const session = await open();
      assert.equal(session.has("anything"), false);
    });

    test("every JSON shape comes back equal", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const session = await open();
      for (const [key, value] of Object.entries(roundTripValues)) session.set(key, value);
      session.set("__proto__", "an ordinary key");
      session.set("constructor", { also: "ordinary" });
      const reopened = await open(await commitAndReopenHeader(session));
      for (const [key, value] of Object.entries(roundTripValues)) {
        assert.deepEqual(reopened.get(key), value, `the value stored as "${key}" changed`);
      }
      assert.equal(reopened.get("__proto__"), "an ordinary key");
      assert.deepEqual(reopened.get("constructor"), { also: "ordinary" });
    });

    test("a value changed in place is written", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("cart", { items: ["book"] });
      const second = await open(await commitAndReopenHeader(first));
      (second.get("cart") as { items: string[] }).items.push("pen");
      const third = await open(await commitAndReopenHeader(second));
      assert.deepEqual(third.get("cart"), { items: ["book", "pen"] }, "an item pushed into a stored array was lost");
    });

    test("unset removes a value for good", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const session = await open();
      session.set("a", 1);
      session.set("b", 2);
      const second = await open(await commitAndReopenHeader(session));
      second.unset("a");
      const third = await open(await commitAndReopenHeader(second));
      assert.equal(third.has("a"), false);
      assert.equal(third.get("b"), 2);
    });

    test("a flash is shown once, and survives requests that do not read it", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.flash("message", "Saved");
      first.set("kept", true);
      const header = await commitAndReopenHeader(first);
      const poll = await open(header);
      assert.equal(poll.has("message"), true);
      const pollHeader = await commitAndReopenHeader(poll);
      const page = await open(pollHeader);
      assert.equal(page.get("message"), "Saved");
      const after = await open(await commitAndReopenHeader(page));
      assert.equal(after.has("message"), false, "a flash read once must be gone after that request's commit");
      assert.equal(after.get("kept"), true);
    });

    test("destroy ends the session: neither the old nor the new header reads it", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("user", "ada");
      const header = await commitAndReopenHeader(first);
      const second = await open(header);
      second.destroy();
      const afterHeader = await commitAndReopenHeader(second);
      assert.equal((await open(afterHeader)).has("user"), false);
      if (!options.stateless) assert.equal((await open(header)).has("user"), false, "the destroyed session can still be read with its old header");
    });

    test("regenerate keeps the data under a new identity and kills the old one", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("user", "ada");
      const header = await commitAndReopenHeader(first);
      const second = await open(header);
      second.regenerate();
      const newHeader = await commitAndReopenHeader(second);
      assert.notEqual(newHeader, header);
      assert.equal((await open(newHeader)).get("user"), "ada");
      if (!options.stateless) assert.equal((await open(header)).has("user"), false, "the old identity still reads the session");
    });

    test("a session unused for longer than the idle timeout expires", async () => {
      const { open, commitAndReopenHeader, advance } = await setUp();
      const session = await open();
      session.set("user", "ada");
      const header = await commitAndReopenHeader(session);
      advance(maxAge - 1000);
      assert.equal((await open(header)).get("user"), "ada", "expired before the idle timeout");
      advance(2000);
      assert.equal((await open(header)).has("user"), false, "still readable after the idle timeout");
    });

    test("activity keeps a session alive until the absolute timeout, not past it", async () => {
      const { open, commitAndReopenHeader, advance } = await setUp();
      const session = await open();
      session.set("visits", 0);
      let header = await commitAndReopenHeader(session);
      const step = Math.max(1000, Math.floor(maxAge / 2));
      let elapsed = 0;
      while (elapsed + step < absoluteTimeout) {
        advance(step);
        elapsed += step;
        const active = await open(header);
        assert.equal(typeof active.get("visits"), "number", `an active session expired after ${elapsed} ms`);
        active.set("visits", (active.get("visits") as number) + 1);
        header = await commitAndReopenHeader(active);
      }
      advance(absoluteTimeout - elapsed + 1000);
      assert.equal((await open(header)).has("visits"), false, "a session outlived the absolute timeout");
    });

    test("hostile headers read as a fresh empty session", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const session = await open();
      session.set("user", "ada");
      const valid = (await commitAndReopenHeader(session)) ?? "";
      const separator = valid.indexOf("=");
      const name = separator > 0 ? valid.slice(0, separator) : "session";
      const value = valid.slice(separator + 1);
      const flipped = value.length > 10 ? value.slice(0, 10) + (value[10] === "A" ? "B" : "A") + value.slice(11) : `${value}x`;
      const hostile = [
        "",
        "garbage",
        `${name}=`,
        `${name}=garbage`,
        `${name}=${value.slice(0, Math.floor(value.length / 2))}`,
        `${name}=${flipped}`,
        `${name}=${value}${value}`,
        `${name}=${"A".repeat(100_000)}`,
        `__proto__=1; constructor=2; ${name}=%%%`,
        `${name}={"d":{"user":"mallory"}}`,
      ];
      for (const header of hostile) {
        const opened = await open(header);
        assert.equal(opened.has("user"), false, `a hostile header read as a session: ${header.slice(0, 80)}`);
      }
    });

    // A stateless storage cannot revoke a cookie nor merge commits: these two checks need server state.
    const statefulTest: TestFunction = options.stateless ? () => undefined : test;

    statefulTest("a request that changed nothing does not bring a destroyed session back", async () => {
      const { open, commitAndReopenHeader, advance } = await setUp();
      const first = await open();
      first.set("user", "ada");
      const header = await commitAndReopenHeader(first);
      advance(maxAge - 1000); // the slow request's renewal is due
      const slow = await open(header);
      const logout = await open(header);
      logout.destroy();
      await logout.commit();
      await slow.commit(); // renewing only: it must not recreate the session
      assert.equal((await open(header)).has("user"), false);
    });

    statefulTest("a request that changes a session destroyed while it ran writes nothing and sends no header", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("user", "ada");
      const header = await commitAndReopenHeader(first);
      const slow = await open(header);
      const logout = await open(header);
      logout.destroy();
      await logout.commit();
      slow.set("cart", ["book"]);
      assert.equal(await slow.commit(), "", "the slow request's commit sent a header for a session that no longer exists");
      const after = await open(header);
      assert.equal(after.has("user") || after.has("cart"), false, "the destroyed session was written back");
    });

    statefulTest("a request that started before a login and changes something does not undo the login", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("theme", "dark");
      const anonymous = await commitAndReopenHeader(first);
      const [slow, login] = await Promise.all([open(anonymous), open(anonymous)]);
      login.regenerate();
      login.set("user", "ada");
      const loggedIn = await commitAndReopenHeader(login);
      slow.set("cart", ["book"]);
      assert.equal(await slow.commit(), "", "the slow request re-sent the old identity, which would log the user out");
      const session = await open(loggedIn);
      assert.equal(session.get("user"), "ada");
      assert.equal(session.get("theme"), "dark");
      assert.equal((await open(anonymous)).has("theme"), false, "the identity from before the login still reads the session");
    });

    const unresponsive = options.unresponsive;
    const unresponsiveTest: TestFunction = unresponsive ? test : () => undefined;

    unresponsiveTest("a server that never answers fails reads and commits within the bound, with an ERR_SESSION_ error", async () => {
      const { clock, open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("user", "ada");
      const header = await commitAndReopenHeader(first);
      const silent = await unresponsive!.createStorage(clock);
      const bound = unresponsive!.timeout + 1000;
      await assertFailsWithin(() => intoSessionStore(silent, header), bound, "reading");
      const fresh = await intoSessionStore(silent);
      fresh.set("user", "bob");
      await assertFailsWithin(() => fresh.commit(), bound, "committing");
    });

    const mergingTest: TestFunction = options.mergesConcurrentCommits ?? !options.stateless ? test : () => undefined;

    mergingTest("concurrent commits that change different keys both survive", async () => {
      const { open, commitAndReopenHeader } = await setUp();
      const first = await open();
      first.set("shared", 0);
      const header = await commitAndReopenHeader(first);
      const [left, right] = await Promise.all([open(header), open(header)]);
      left.set("left", "L");
      right.set("right", "R");
      await Promise.all([left.commit(), right.commit()]);
      const merged = await open(header);
      assert.equal(merged.get("left"), "L");
      assert.equal(merged.get("right"), "R");
    });
  });
}

/** Asserts that `run` rejects within `bound` ms with an error whose code starts with ERR_SESSION_. */
async function assertFailsWithin(run: () => Promise<unknown>, bound: number, what: string): Promise<void> {
  const started = Date.now();
  const outcome = await run().then(
    () => undefined,
    (error: unknown) => error,
  );
  const elapsed = Date.now() - started;
  assert.ok(outcome !== undefined, `${what} succeeded against a server that never answers`);
  assert.match(String((outcome as { code?: unknown }).code), /^ERR_SESSION_/, `${what} failed with ${String(outcome)}, not an ERR_SESSION_ error`);
  assert.ok(elapsed <= bound, `${what} took ${elapsed} ms to fail, over the bound of ${bound} ms`);
}

/** The `name=value` pair of a `Set-Cookie` value: what a browser sends back. */
function cookiePairOf(setCookie: string): string | undefined {
  const pair = setCookie.split(";")[0]?.trim();
  return pair && pair.includes("=") ? pair : undefined;
}
