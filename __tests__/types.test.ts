// Type-level tests: they fail at compile time (ts-jest type-checks this file, and so does
// `npm run typecheck`) when the public types stop catching what they must catch, or start
// refusing what they must accept. `@ts-expect-error` fails when the error it expects is gone.
import { describe, expect, test } from "@jest/globals";
import { expectTypeOf } from "expect-type";
import type { Request } from "express";
import {
  createCookieSessionStorage,
  createMemorySessionStorage,
  sessionGone,
  sessions,
  type Serializable,
  type SessionGone,
  type SessionStorage,
  type SessionStore,
  type StoredSession,
} from "../lib/index.js";
import { testCookie } from "./fixtures.js";

const cookieStorage = createCookieSessionStorage({ cookie: testCookie() });
const memoryStorage = createMemorySessionStorage({ cookie: testCookie() });
const stringStorage: SessionStorage<string> = {
  async fromHeader() {
    return [{ content: new Map(), flashedKeys: new Set() }];
  },
  async toHeader() {
    return "";
  },
};

type User = { id: number; name: string };
interface Account {
  plan: string;
  seats: number;
}

describe("sessions<Data, Flash>() is checked against what the storage can hold", () => {
  test("JSON data fits the cookie storage; optional keys and interfaces for the keys are fine", () => {
    sessions<{ user: User; visits: number; theme?: "dark" | "light" }, { message: string }>({ storage: cookieStorage });
    sessions<Account>({ storage: cookieStorage });
    expect(true).toBe(true);
  });

  test("a Date, a class instance, undefined or unknown does not fit the cookie storage", () => {
    // @ts-expect-error: a Date is not JSON: the cookie storage would refuse it at run time
    sessions<{ lastSeen: Date }>({ storage: cookieStorage });
    // @ts-expect-error: nor in a flash
    sessions<{ user: User }, { when: Date }>({ storage: cookieStorage });
    // @ts-expect-error: nor deep inside a value
    sessions<{ user: { profile: { since: Date } } }>({ storage: cookieStorage });
    // @ts-expect-error: a Map is not JSON either
    sessions<{ cart: Map<string, number> }>({ storage: cookieStorage });
    // @ts-expect-error: unknown could be anything
    sessions<{ anything: unknown }>({ storage: cookieStorage });
    expect(true).toBe(true);
  });

  test("the memory storage holds any value, by reference", () => {
    sessions<{ lastSeen: Date; cart: Map<string, number>; socket: { send(text: string): void } }>({ storage: memoryStorage });
    expect(true).toBe(true);
  });

  test("a do-it-yourself storage is checked by its own Value", () => {
    sessions<{ token: string }>({ storage: stringStorage });
    // @ts-expect-error: this storage holds strings only
    sessions<{ count: number }>({ storage: stringStorage });
    // @ts-expect-error: a union is checked as a whole
    sessions<{ value: string | number }>({ storage: stringStorage });
    expect(true).toBe(true);
  });

  test("without type arguments every storage fits, and req.session stays usable", () => {
    for (const storage of [cookieStorage, memoryStorage, stringStorage]) sessions({ storage });
    const handler = (req: Request) => {
      req.session.set("visits", 1);
      expectTypeOf(req.session).toEqualTypeOf<SessionStore<any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    expect(typeof handler).toBe("function");
  });

  test("sessionOf(req) types get, set and flash by key", () => {
    const session = sessions<{ user: User; visits: number }, { message: string }>({ storage: cookieStorage });
    const handler = (req: Request) => {
      const typed = session.sessionOf(req);
      expectTypeOf(typed.get("user")).toEqualTypeOf<User | undefined>();
      expectTypeOf(typed.get("message")).toEqualTypeOf<string | undefined>();
      // @ts-expect-error: visits is a number
      typed.set("visits", "one");
      // @ts-expect-error: no such key
      typed.get("nope");
    };
    expect(typeof handler).toBe("function");
  });
});

describe("the storage interface", () => {
  test("toHeader may answer sessionGone; the built-in storages always answer a string", () => {
    type ToHeaderResult = Awaited<ReturnType<SessionStorage<Serializable>["toHeader"]>>;
    expectTypeOf<ToHeaderResult>().toEqualTypeOf<string | SessionGone>();
    expectTypeOf(cookieStorage.toHeader).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(memoryStorage.toHeader).returns.resolves.toEqualTypeOf<string>();
    expect(typeof sessionGone).toBe("symbol");
  });

  test("every optional capability is on the exported interface, so a storage implementing them compiles", () => {
    const full: SessionStorage<string, { id: string }> = {
      async fromHeader(_header, _lifetime) {
        return [{ content: new Map(), flashedKeys: new Set() }, { id: "a" }];
      },
      async toHeader(_session, { id }, lifetime) {
        return lifetime && lifetime.expiresAt < Date.now() ? sessionGone : id;
      },
      async destroy() {},
      async regenerate(_session: StoredSession<string>, _metadata, _lifetime) {
        return { header: "b", metadata: { id: "b" } };
      },
      hasChanged: () => false,
      needsCommit: () => false,
      fromHeaderMaybeSync: () => [{ content: new Map(), flashedKeys: new Set() }, { id: "a" }],
      toHeaderMaybeSync: (_session, { id }) => id,
    };
    expect(Object.keys(full)).toHaveLength(8);
  });
});
