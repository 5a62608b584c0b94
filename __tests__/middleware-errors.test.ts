// A storage error reaches Express's error handling: never a hang, never a silent drop.
import { afterAll, describe, expect, jest, test } from "@jest/globals";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import express4 from "express4";
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import request from "supertest";
import { sessions, type SessionStorage } from "../lib/index.js";
import { appWithSessions, cookieStorage, setCookieFor, setCookies, sleep } from "./fixtures.js";

type ExpressFactory = () => Express;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStorage = SessionStorage<any, any>;

/** Each test must settle well within this; a hang fails the test instead of stalling the run. */
const noHang = 5_000;

const expressMajors: [string, ExpressFactory][] = [
  ["Express 5", express as unknown as ExpressFactory],
  ["Express 4", express4 as unknown as ExpressFactory],
];

type Failure = "rejects at once" | "rejects after 100 ms" | "throws synchronously";
const failures: Failure[] = ["rejects at once", "rejects after 100 ms", "throws synchronously"];

/** Runs `failure` the way a broken storage would. */
function fail(failure: Failure, message: string): Promise<never> {
  switch (failure) {
    case "rejects at once":
      return Promise.reject(new Error(message));
    case "rejects after 100 ms":
      return sleep(100).then(() => Promise.reject(new Error(message)));
    case "throws synchronously":
      throw new Error(message);
  }
}

/** A cookie storage whose loading fails. */
function storageFailingToLoad(failure: Failure): AnyStorage {
  const inner = cookieStorage();
  return {
    fromHeader: () => fail(failure, "the session store is down"),
    toHeader: (session, metadata) => inner.toHeader(session, metadata),
  };
}

/** A cookie storage whose commits fail. */
function storageFailingToCommit(failure: Failure): AnyStorage & { attempts: number } {
  const inner = cookieStorage();
  const storage = {
    attempts: 0,
    fromHeader: (header?: string) => inner.fromHeader(header),
    toHeader: () => {
      storage.attempts++;
      return fail(failure, "the session could not be saved");
    },
  };
  return storage;
}

const originalBody = "the original body that must not be sent";

/** The ways a handler answers, each after changing the session. */
const answers: [string, (req: Request, res: Response) => void][] = [
  [
    "res.send",
    (req, res) => {
      req.session.set("user", "ada");
      res.send(originalBody);
    },
  ],
  [
    "res.redirect",
    (req, res) => {
      req.session.set("user", "ada");
      res.redirect("/welcome");
    },
  ],
  [
    "res.json",
    (req, res) => {
      req.session.set("user", "ada");
      res.json({ body: originalBody });
    },
  ],
  [
    "res.end",
    (req, res) => {
      req.session.set("user", "ada");
      res.end(originalBody);
    },
  ],
  [
    "several res.write calls, then res.end",
    (req, res) => {
      req.session.set("user", "ada");
      res.write(originalBody);
      res.write(originalBody);
      res.end(originalBody);
    },
  ],
  [
    "an explicit res.writeHead, then res.end",
    (req, res) => {
      req.session.set("user", "ada");
      res.writeHead(201, { "Content-Type": "application/x-original" });
      res.end(originalBody);
    },
  ],
  [
    "res.sendFile",
    (req, res) => {
      req.session.set("user", "ada");
      res.sendFile(fileURLToPath(import.meta.url));
    },
  ],
  [
    "a piped stream",
    (req, res) => {
      req.session.set("user", "ada");
      res.type("text");
      Readable.from(Array.from({ length: 64 }, () => `${originalBody}\n`.repeat(1000))).pipe(res);
    },
  ],
];

// The late-change process warning is captured for the whole file and asserted where it is
// provoked, instead of being printed into the test output; other warnings go through.
const isLateChangeWarning = (args: unknown[]) => (args[1] as { code?: string } | undefined)?.code === "REMASTERED_SESSIONS_LATE_CHANGE";
const emitWarning = process.emitWarning.bind(process);
const warnings = jest.spyOn(process, "emitWarning").mockImplementation((...args: Parameters<typeof process.emitWarning>) => {
  if (!isLateChangeWarning(args)) emitWarning(...args);
});
afterAll(() => warnings.mockRestore());
const lateChangeWarnings = () => warnings.mock.calls.filter(isLateChangeWarning);

describe.each(expressMajors)("on %s", (_major, createExpress) => {
  describe("a storage that fails to load the session", () => {
    test.each(failures)(
      "whose fromHeader %s sends the request to the error handler, which answers 500",
      async (failure) => {
        let handlerRan = false;
        const app = appWithSessions(
          (app) => {
            app.get("/", (_req, res) => {
              handlerRan = true;
              res.send(originalBody);
            });
          },
          { storage: storageFailingToLoad(failure) },
          createExpress,
        );
        const res = await request(app).get("/").set("Cookie", "sid=anything");
        expect(res.status).toBe(500);
        expect(res.text).toBe("Error: the session store is down");
        expect(handlerRan).toBe(false);
      },
      noHang,
    );
  });

  describe("a storage that fails to commit after the handler answered", () => {
    describe.each(answers)("with %s", (_way, answer) => {
      test.each(failures)(
        "whose toHeader %s: the error handler answers 500 and the original response is not sent",
        async (failure) => {
          const storage = storageFailingToCommit(failure);
          const app = appWithSessions((app) => app.get("/", answer), { storage }, createExpress);
          const res = await request(app).get("/");
          expect(res.status).toBe(500);
          expect(res.text).toBe("Error: the session could not be saved");
          expect(res.text).not.toContain(originalBody);
          expect(res.headers["content-type"]).toMatch(/^text\/plain/);
          expect(res.headers.location).toBeUndefined();
          expect(setCookies(res)).toEqual([]);
          expect(storage.attempts).toBe(1);
        },
        noHang,
      );
    });
  });

  describe("a handler whose own awaited commit fails", () => {
    test(
      "passes the error on with next(err) and the client gets a 500, not a hang",
      async () => {
        const storage = storageFailingToCommit("rejects after 100 ms");
        const app = appWithSessions(
          (app) => {
            app.post("/login", async (req, res, next) => {
              try {
                req.session.set("user", "ada");
                await req.session.commit();
                res.redirect("/");
              } catch (error) {
                next(error);
              }
            });
          },
          { storage },
          createExpress,
        );
        const res = await request(app).post("/login");
        expect(res.status).toBe(500);
        expect(res.headers.location).toBeUndefined();
        expect(setCookies(res)).toEqual([]);
      },
      noHang,
    );
  });

  describe("a storage that fails to commit after the headers already left", () => {
    test(
      "closes the connection, so the client sees an incomplete response, and the error reaches next(err)",
      async () => {
        const reached: unknown[] = [];
        const app = appWithSessions(
          (app) => {
            app.get("/", (req, res) => {
              res.type("text");
              res.write("first part,");
              req.session.set("late", true);
              res.end("last part");
            });
            app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
              reached.push(error);
              next(error);
            });
          },
          { storage: storageFailingToCommit("rejects after 100 ms") },
          createExpress,
        );
        const res = await rawGet(app, "/");
        expect(res.status).toBe(200);
        expect(res.complete).toBe(false);
        expect(res.body).not.toContain("last part");
        expect(reached).toEqual([expect.objectContaining({ message: "the session could not be saved" })]);
        // Once per process, however many responses change late (this test runs on Express 4 and 5).
        expect(lateChangeWarnings()).toEqual([
          [expect.stringContaining("A session changed after the response headers were sent"), { code: "REMASTERED_SESSIONS_LATE_CHANGE" }],
        ]);
      },
      noHang,
    );
  });

  describe("a session the cookie storage cannot store reaches the error handler before any header is sent", () => {
    test(
      "a 5000-character value: CookieTooLargeError",
      async () => {
        const app = appWithSessions(
          (app) => {
            app.get("/", (req, res) => {
              req.session.set("essay", "a long essay that does not belong in a cookie. ".repeat(110).slice(0, 5000));
              res.send(originalBody);
            });
          },
          {},
          createExpress,
        );
        const res = await request(app).get("/");
        expect(res.status).toBe(500);
        expect(res.text).toMatch(/^CookieTooLargeError: /);
        expect(res.text).toContain("4096");
        expect(res.text).not.toContain(originalBody);
        expect(setCookieFor(res)).toBeUndefined();
      },
      noHang,
    );

    const cyclic: { name: string; self?: unknown } = { name: "loop" };
    cyclic.self = cyclic;
    const notSerializable: [string, () => unknown][] = [
      ["a function", () => () => "hello"],
      ["a Date", () => new Date("2024-01-01T00:00:00Z")],
      ["undefined", () => undefined],
      ["NaN", () => NaN],
      ["a cyclic object", () => cyclic],
    ];
    test.each(notSerializable)(
      "%s: SessionValueNotSerializableError naming the key",
      async (_kind, value) => {
        const app = appWithSessions(
          (app) => {
            app.get("/", (req, res) => {
              req.session.set("fine", "a string");
              req.session.set("troublesome", value());
              res.send(originalBody);
            });
          },
          {},
          createExpress,
        );
        const res = await request(app).get("/");
        expect(res.status).toBe(500);
        expect(res.text).toMatch(/^SessionValueNotSerializableError: /);
        expect(res.text).toContain('"troublesome');
        expect(res.text).not.toContain(originalBody);
        expect(setCookieFor(res)).toBeUndefined();
      },
      noHang,
    );
  });

  describe("without an error handler of the app's own, Express's final handler", () => {
    function appWithoutErrorHandler(storage: AnyStorage): Express {
      const app = createExpress();
      app.use(sessions({ storage }));
      app.get("/", (req, res) => {
        req.session.set("user", "ada");
        res.send(originalBody);
      });
      app.get("/redirect", (req, res) => {
        req.session.set("user", "ada");
        res.redirect("/welcome");
      });
      return app;
    }

    test(
      "answers 500 when a commit fails after res.send",
      async () => {
        const res = await request(appWithoutErrorHandler(storageFailingToCommit("rejects after 100 ms"))).get("/");
        expect(res.status).toBe(500);
        expect(res.text).not.toContain(originalBody);
        expect(setCookies(res)).toEqual([]);
      },
      noHang,
    );

    test(
      "answers 500 when a commit fails after res.redirect",
      async () => {
        const res = await request(appWithoutErrorHandler(storageFailingToCommit("rejects at once"))).get("/redirect");
        expect(res.status).toBe(500);
        expect(res.headers.location).toBeUndefined();
      },
      noHang,
    );

    test(
      "answers 500 when loading fails",
      async () => {
        const res = await request(appWithoutErrorHandler(storageFailingToLoad("rejects after 100 ms"))).get("/");
        expect(res.status).toBe(500);
        expect(res.text).not.toContain(originalBody);
      },
      noHang,
    );
  });
});

/**
 * A GET over plain node:http that reports how the response ended: `complete` is false
 * when the server closed the connection before the end of the body.
 */
async function rawGet(
  app: Express,
  path: string,
): Promise<{ status: number | undefined; complete: boolean; body: string }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("error", () => undefined); // "aborted": reported through `complete`
        res.on("close", () => resolve({ status: res.statusCode, complete: res.complete, body }));
      });
      req.on("error", reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("a commit the handler starts without awaiting it", () => {
  test("fails into the error handler at response time, and does not crash the process", () => {
    // A child process: jest intercepts unhandled rejections, Node's default ends the process.
    const script = fileURLToPath(new URL("./scripts/unawaited-failing-commit.ts", import.meta.url));
    const child = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: 20_000 });
    expect(child.stderr).not.toMatch(/unhandled|storage is down\n\s+at /i);
    expect(child.stdout.trim()).toBe("status 500: storage is down");
    expect(child.status).toBe(0);
  });
});
