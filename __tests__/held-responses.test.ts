// A response held while the session is saved behaves exactly like one that is not held.
//
// Detecting crashes: jest hands each test file a copy of `process` whose listeners never
// fire, and puts its own handlers on the real one (they fail the running test, so the
// process survives what would end it in production). We reach the real `process` through
// vm.runInThisContext and record every unhandled rejection and uncaught exception there;
// afterEach asserts that nothing was recorded. (Checked with a deliberate
// `Promise.reject()` and a throw in a timer: both were recorded; listeners on jest's
// `process` saw neither.) A hang fails the request after `noHangMs` instead.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import compression from "compression";
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import express4 from "express4";
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import vm from "node:vm";
import request from "supertest";
import { createMemorySessionStorage, sessions, type SessionStorage, type SessionStore } from "../lib/index.js";
import { cookieStorage, setCookieFor, setCookies, sleep, slowStorage, testCookie } from "./fixtures.js";

type ExpressFactory = () => Express;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStorage = SessionStorage<any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySession = SessionStore<any>;

const expressMajors: [string, ExpressFactory][] = [
  ["Express 5", express as unknown as ExpressFactory],
  ["Express 4", express4 as unknown as ExpressFactory],
];

const realProcess = vm.runInThisContext("process") as NodeJS.Process;
const crashes: string[] = [];
const onUnhandledRejection = (reason: unknown) => crashes.push(`unhandled rejection: ${describeError(reason)}`);
const onUncaughtException = (error: unknown) => crashes.push(`uncaught exception: ${describeError(error)}`);

beforeAll(() => {
  realProcess.on("unhandledRejection", onUnhandledRejection);
  realProcess.on("uncaughtException", onUncaughtException);
});
afterAll(() => {
  realProcess.off("unhandledRejection", onUnhandledRejection);
  realProcess.off("uncaughtException", onUncaughtException);
});
afterEach(async () => {
  await sleep(20); // a rejection is reported after the microtasks of its tick
  const recorded = crashes.splice(0);
  expect(recorded).toEqual([]);
});

function describeError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return [code, message ?? String(error)].filter(Boolean).join(" ");
}

/** How a response comes to be held back (or not), and the session cookie it then carries. */
type Holding = { name: string; storage: () => AnyStorage; touch: (session: AnySession) => void; cookie: RegExp };

const setUser = (session: AnySession) => session.set("user", "ada");
const regenerate = (session: AnySession) => {
  session.set("user", "ada");
  session.regenerate();
};
const memoryStorage = () => createMemorySessionStorage({ cookie: testCookie() });
const sessionCookie = /^sid=[^;]+;/;
const deletedCookie = /^sid=;.*Max-Age=0/;

const notHeld: Holding = { name: "not held (a synchronous storage)", storage: cookieStorage, touch: setUser, cookie: sessionCookie };
const heldBySlowStorage: Holding = {
  name: "held by a storage that takes 30 ms",
  storage: () => slowStorage(cookieStorage(), 30),
  touch: setUser,
  cookie: sessionCookie,
};
const heldByDestroy: Holding = {
  name: "held by destroy() on a cookie storage",
  storage: cookieStorage,
  touch: (session) => session.destroy(),
  cookie: deletedCookie,
};
const heldByRegenerate: Holding = { name: "held by regenerate() on a cookie storage", storage: cookieStorage, touch: regenerate, cookie: sessionCookie };
const everyHolding: Holding[] = [
  notHeld,
  heldBySlowStorage,
  heldByDestroy,
  heldByRegenerate,
  { name: "held by destroy() on a memory storage", storage: memoryStorage, touch: (session) => session.destroy(), cookie: deletedCookie },
  { name: "held by regenerate() on a memory storage", storage: memoryStorage, touch: regenerate, cookie: sessionCookie },
];
const named = (holdings: Holding[]) => holdings.map((holding) => [holding.name, holding] as const);

/** An app: `before`, sessions(), `after`, then `handler` on GET / after touching the session. */
function appWith(
  createExpress: ExpressFactory,
  holding: Holding,
  handler: RequestHandler,
  { before = [], after = [], onError = standardErrorHandler }: { before?: RequestHandler[]; after?: RequestHandler[]; onError?: ErrorHandler } = {},
): Express {
  const app = createExpress();
  for (const middleware of before) app.use(middleware);
  app.use(sessions({ storage: holding.storage() }));
  for (const middleware of after) app.use(middleware);
  app.get("/", (req, res, next) => {
    holding.touch(req.session);
    return handler(req, res, next);
  });
  app.use(onError);
  return app;
}

type ErrorHandler = (error: Error, req: Request, res: Response, next: NextFunction) => void;
const standardErrorHandler: ErrorHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  res.status(500).type("text").send(`${error.name}: ${error.message}`);
};

const noHangMs = 2_000;

/** Runs `use` against `app` listening on a free port, then closes every connection. */
async function withServer<T>(app: Express, use: (server: Server, port: number) => Promise<T>): Promise<T> {
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  try {
    return await use(server, (server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** GET / over real HTTP. Throws on a connection error, and says so when no response came in time. */
function get(app: Express): Promise<request.Response> {
  return withServer(app, async (server) => {
    try {
      return await request(server).get("/").timeout(noHangMs);
    } catch (error) {
      if ((error as { timeout?: number }).timeout) throw new Error(`the request hung: no response within ${noHangMs} ms`, { cause: error });
      throw error;
    }
  });
}

/** What a client really saw, also when the connection closed mid-response: GET / over node:http. */
type Seen = { status?: number; contentLength?: string; body: string; complete: boolean; error?: string };
function rawGet(app: Express): Promise<Seen> {
  return withServer(app, (_server, port) => {
    const seen: Seen = { body: "", complete: false };
    return new Promise((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: noHangMs }, (res) => {
        Object.assign(seen, { status: res.statusCode, contentLength: res.headers["content-length"] });
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (seen.body += chunk));
        res.on("error", () => undefined); // "aborted": reported through `complete`
        res.on("close", () => resolve({ ...seen, complete: res.complete }));
      });
      req.on("timeout", () => {
        seen.error = `hung: nothing more within ${noHangMs} ms`;
        req.destroy();
      });
      req.on("error", (error) => resolve({ ...seen, error: seen.error ?? error.message }));
    });
  });
}

const writeInThreeParts: RequestHandler = (_req, res) => {
  res.type("text");
  res.write("a");
  res.write("b");
  res.end("c");
};

describe.each(expressMajors)("on %s", (_major, createExpress) => {
  describe("compression() calls writeHead once per write while the headers are held", () => {
    const mounts: [string, { before?: RequestHandler[]; after?: RequestHandler[] }][] = [
      ["mounted after sessions()", { after: [compression({ threshold: 0 })] }],
      ["mounted before sessions()", { before: [compression({ threshold: 0 })] }],
    ];
    describe.each(mounts)("with compression %s", (_mount, middlewares) => {
      test.each(named(everyHolding))(
        "a response %s, written in three parts, arrives compressed and whole, with the session cookie",
        async (_name, holding) => {
          const res = await get(appWith(createExpress, holding, writeInThreeParts, middlewares));
          expect(res.status).toBe(200);
          expect(res.headers["content-encoding"]).toBe("gzip");
          expect(res.text).toBe("abc");
          expect(setCookieFor(res)).toMatch(holding.cookie);
        },
      );
    });
  });

  describe("a second res.writeHead throws ERR_HTTP_HEADERS_SENT into the handler at once", () => {
    test.each(named([notHeld, heldBySlowStorage, heldByDestroy]))(
      "on a response %s, so the handler can catch it and still answer",
      async (_name, holding) => {
        const app = appWith(createExpress, holding, (_req, res) => {
          res.writeHead(200);
          try {
            res.writeHead(201);
          } catch (error) {
            res.end(`caught ${(error as { code?: string }).code}`);
          }
        });
        const res = await get(app);
        expect(res.status).toBe(200);
        expect(res.text).toBe("caught ERR_HTTP_HEADERS_SENT");
        expect(setCookieFor(res)).toMatch(holding.cookie);
      },
    );
  });

  describe("a response is sent the moment res.send returns", () => {
    test.each(named([notHeld, heldBySlowStorage]))(
      "on a response %s, res.headersSent is true and a later setHeader throws without changing what the client gets",
      async (_name, holding) => {
        const seen: { headersSent?: boolean; setHeaderError?: string } = {};
        const app = appWith(createExpress, holding, (_req, res) => {
          res.send("ok");
          seen.headersSent = res.headersSent;
          try {
            res.setHeader("x-too-late", "1");
          } catch (error) {
            seen.setHeaderError = (error as { code?: string }).code;
          }
        });
        const res = await get(app);
        expect(seen).toEqual({ headersSent: true, setHeaderError: "ERR_HTTP_HEADERS_SENT" });
        expect(res.text).toBe("ok");
        expect(res.headers["x-too-late"]).toBeUndefined();
      },
    );
  });

  describe("headers passed to writeHead(status, undefined, headers), as proxies do, keep our cookie", () => {
    const upstreamHeaders: [string, Record<string, string>, string[]][] = [
      ["without cookies", { "x-upstream": "1" }, []],
      ["with a Set-Cookie of their own", { "x-upstream": "1", "set-cookie": "other=1" }, ["other=1"]],
    ];
    describe.each(upstreamHeaders)("headers %s", (_kind, headers, theirCookies) => {
      test.each(named([notHeld, heldBySlowStorage]))("on a response %s", async (_name, holding) => {
        const app = appWith(createExpress, holding, (_req, res) => {
          res.writeHead(200, undefined, headers);
          res.end("from upstream");
        });
        const res = await get(app);
        expect(res.status).toBe(200);
        expect(res.headers["x-upstream"]).toBe("1");
        expect(setCookies(res)).toEqual(expect.arrayContaining(theirCookies));
        expect(setCookieFor(res)).toMatch(holding.cookie);
      });
    });
  });
});

describe("an event stream that starts with writeHead and sends its first event later", () => {
  test.each(named([notHeld, heldBySlowStorage]))("gets its headers as soon as the session is saved, on a response %s", async (_name, holding) => {
    const app = appWith(express as unknown as ExpressFactory, holding, (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      setTimeout(() => res.end("data: done\n\n"), 600);
    });
    const timing = await withServer(app, (_server, port) => {
      const started = Date.now();
      return new Promise<{ headers: number; end: number; cookie: string | undefined }>((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
          const headers = Date.now() - started;
          const cookie = [res.headers["set-cookie"] ?? []].flat().find((value) => value.startsWith("sid="));
          res.resume();
          res.on("end", () => resolve({ headers, end: Date.now() - started, cookie }));
        }).on("error", reject);
      });
    });
    expect(timing.headers).toBeLessThan(400);
    expect(timing.end).toBeGreaterThanOrEqual(590);
    expect(timing.cookie).toMatch(holding.cookie);
  });
});

describe("on Express 4, an invalid status code thrown by Node's writeHead", () => {
  const createExpress = express4 as unknown as ExpressFactory;
  test.each(named([notHeld, heldBySlowStorage, heldByRegenerate]))(
    "reaches the error handler on a response %s, which answers 500",
    async (_name, holding) => {
      const app = appWith(createExpress, holding, (_req, res) => {
        res.status(1000).send("x");
      });
      const res = await get(app);
      expect(res.status).toBe(500);
      expect(res.text).toBe("RangeError: Invalid status code: 1000");
    },
  );
});

describe("on Express 5, an error thrown by an async handler after res.send", () => {
  const createExpress = express as unknown as ExpressFactory;
  const errorHandlers: [string, ErrorHandler][] = [
    ["the standard guard (if res.headersSent, next(err))", standardErrorHandler],
    [
      "a sloppy error handler that always answers 500",
      // Four parameters, or Express does not take it for an error handler.
      (_error, _req, res, _next) => {
        res.status(500).send("error page");
      },
    ],
  ];
  describe.each(errorHandlers)("reaching %s", (_kind, onError) => {
    test.each(named([notHeld, heldBySlowStorage]))(
      "on a response %s never crashes the process nor merges two responses",
      async (_name, holding) => {
        const app = appWith(
          createExpress,
          holding,
          async (_req, res) => {
            res.send("ok");
            throw new Error("late");
          },
          { onError },
        );
        const seen = await rawGet(app);
        expect(seen.error ?? "").not.toMatch(/hung/);
        // Closing the connection before any response is acceptable; a response must be the handler's, intact.
        if (seen.status !== undefined) expect(seen).toMatchObject({ status: 200, contentLength: "2", body: "ok", complete: true });
      },
    );
  });
});
