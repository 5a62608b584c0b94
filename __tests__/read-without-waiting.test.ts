// The read path answers synchronously when nothing needs waiting for (a cookie this process
// has seen, a session in memory): `fromHeaderMaybeSync`, the storages' optional extension.
// What it returns must always agree with `fromHeader`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { describe, expect, test } from "@jest/globals";
import {
  createCookieSessionStorage,
  createMemorySessionStorage,
  intoSessionStore,
  sessions,
  withEncryptedCookies,
  type SessionStorage,
} from "../lib/index.js";
import { cookieStorage, otherSecret, testCookie, testSecret } from "./fixtures.js";

const cookieOf = (setCookie: string) => setCookie.split(";")[0]!;

async function committedCookie(storage: SessionStorage<unknown, unknown>) {
  const session = await intoSessionStore(storage);
  session.set("user", { id: 42 });
  session.flash("message", "hello");
  return cookieOf(await session.commit());
}

describe.each([
  ["cookie storage", () => cookieStorage()],
  ["memory storage", () => createMemorySessionStorage({ cookie: testCookie() })],
])("%s", (_name, createStorage) => {
  test("a cookie this process sealed is read without waiting, and reads as fromHeader reads it", async () => {
    const storage = createStorage();
    const cookie = await committedCookie(storage);
    const now = storage.fromHeaderMaybeSync(cookie);
    expect(now).not.toBeInstanceOf(Promise);
    const [session] = now as Awaited<typeof now>;
    const [later] = await storage.fromHeader(cookie);
    expect(session.content).toEqual(later.content);
    expect(session.flashedKeys).toEqual(later.flashedKeys);
    expect(session.content.get("user")).toEqual({ id: 42 });
  });

  test("no cookie, or one that cannot be a token, is a fresh session at once", async () => {
    const storage = createStorage();
    for (const header of [undefined, "", "sid=garbage", "sid=a.b.c.d.e", "other=1"]) {
      const now = storage.fromHeaderMaybeSync(header);
      expect(now).not.toBeInstanceOf(Promise);
      expect((now as Awaited<typeof now>)[0].content.size).toBe(0);
    }
  });
});

test("a cookie sealed elsewhere (another process, a rotated secret) is decrypted by jose: a promise, then the same session", async () => {
  const sealer = createCookieSessionStorage({ cookie: testCookie({ secret: otherSecret }) });
  const cookie = await committedCookie(sealer);
  const reader = createCookieSessionStorage({ cookie: testCookie({ secret: [testSecret, otherSecret] }) });
  const first = reader.fromHeaderMaybeSync(cookie);
  expect(first).toBeInstanceOf(Promise);
  const [session, metadata] = await first;
  expect(session.content.get("user")).toEqual({ id: 42 });
  expect(metadata?.needsReseal).toBe(true);
  // Authenticated once, remembered: the next read of the same token does not wait.
  expect(reader.fromHeaderMaybeSync(cookie)).not.toBeInstanceOf(Promise);
});

test("withEncryptedCookies over a do-it-yourself storage without the extension still reads through its fromHeader", async () => {
  const calls: (string | undefined)[] = [];
  const storage = withEncryptedCookies({
    cookie: testCookie(),
    storage: {
      async fromHeader(value?: string) {
        calls.push(value);
        return [{ content: new Map<string, unknown>(value ? [["value", value]] : []), flashedKeys: new Set<string>() }];
      },
      async toHeader() {
        return "inner-value";
      },
    },
  });
  const cookie = await committedCookie(storage as SessionStorage<unknown, unknown>);
  const [session] = await storage.fromHeaderMaybeSync(cookie);
  expect(session.content.get("value")).toBe("inner-value");
  expect(calls).toEqual([undefined, "inner-value"]);
});

test("the middleware hands a session found at once to the next handler in the same tick", async () => {
  const storage = cookieStorage();
  const cookie = await committedCookie(storage);
  const middleware = sessions({ storage });
  const order: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    middleware(req, res, (error?: unknown) => {
      order.push(error ? "error" : "next");
      res.end(JSON.stringify(middleware.sessionOf(req).get("user")));
    });
    order.push("middleware returned");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
    expect(await response.json()).toEqual({ id: 42 });
    expect(order).toEqual(["next", "middleware returned"]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
