// The middleware puts the session header on every kind of response, saved before a byte leaves.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import express4 from "express4";
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import request from "supertest";
import { sessions, withEncryptedCookies, type SessionStorage, type StoredSession } from "../lib/index.js";
import {
  appWithSessions,
  cookiePair,
  cookieStorage,
  setCookieFor,
  setCookies,
  sleep,
  slowStorage,
  testCookie,
} from "./fixtures.js";

type ExpressFactory = () => Express;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStorage = SessionStorage<any, any>;

const expressMajors: [string, ExpressFactory][] = [
  ["Express 5", express as unknown as ExpressFactory],
  ["Express 4", express4 as unknown as ExpressFactory],
];

const storages: [string, () => AnyStorage][] = [
  ["a cookie storage", () => cookieStorage()],
  ["a cookie storage whose toHeader takes 100 ms", () => slowStorage(cookieStorage(), 100)],
];

/** 2 MiB of text, the same every time: bigger than any socket buffer, so back-pressure really happens. */
const bigChunkSize = 64 * 1024;
const bigChunkCount = 32;
function bigChunk(index: number): string {
  const line = `chunk ${String(index).padStart(3, "0")} of the large streamed body|`;
  return line.repeat(Math.ceil(bigChunkSize / line.length)).slice(0, bigChunkSize);
}
const bigBody = Array.from({ length: bigChunkCount }, (_, index) => bigChunk(index)).join("");
const bigBodyDigest = sha256(bigBody);

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A Readable that produces the big body in 64 KiB chunks, on demand (so it honours back-pressure). */
function bigStream(): Readable {
  let index = 0;
  return new Readable({
    read() {
      this.push(index < bigChunkCount ? bigChunk(index++) : null);
    },
  });
}

const fileBody = "The contents of a file sent with res.sendFile.\n".repeat(100);
let tempDir: string;
let tempFile: string;

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), "remastered-sessions-"));
  tempFile = join(tempDir, "page.txt");
  await writeFile(tempFile, fileBody);
});

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

/** Every way Express writes a response, each setting `via` in the session first. */
function responseRoutes(app: Express): void {
  app.get("/send", (req, res) => {
    req.session.set("via", "send");
    res.send("sent with send");
  });
  app.get("/json", (req, res) => {
    req.session.set("via", "json");
    res.json({ sent: "json" });
  });
  app.get("/redirect", (req, res) => {
    req.session.set("via", "redirect");
    res.redirect("/value/via");
  });
  app.get("/end", (req, res) => {
    req.session.set("via", "end");
    res.end("ended");
  });
  app.get("/write", (req, res) => {
    req.session.set("via", "write");
    res.setHeader("Content-Type", "text/plain");
    res.write("one,");
    res.write("two,");
    res.write("three,");
    res.end("four");
  });
  app.get("/pipe", (req, res) => {
    req.session.set("via", "pipe");
    res.type("text");
    bigStream().pipe(res);
  });
  app.get("/file", (req, res, next) => {
    req.session.set("via", "sendFile");
    res.sendFile(tempFile, (error?: Error) => error && next(error));
  });
  app.get("/write-head", (req, res) => {
    req.session.set("via", "writeHead");
    res.writeHead(201, { "Content-Type": "text/plain" });
    res.end("created");
  });
  app.get("/etag", (req, res) => {
    req.session.set("via", "etag");
    req.session.set("visits", ((req.session.get("visits") as number | undefined) ?? 0) + 1);
    res.send("the same body on every visit");
  });
  app.get("/flush", (req, res) => {
    req.session.set("via", "flushHeaders");
    res.setHeader("Content-Type", "text/plain");
    res.flushHeaders();
    res.write("flushed,");
    res.end("then ended");
  });
  app.get("/value/:key", (req, res) => {
    res.json({ value: req.session.get(String(req.params.key)) ?? null });
  });
}

/** What a later request carrying the response's cookie reads at `key`. */
async function savedValue(app: Express, response: request.Response, key = "via"): Promise<unknown> {
  const read = await request(app).get(`/value/${key}`).set("Cookie", cookiePair(response));
  expect(read.status).toBe(200);
  return read.body.value;
}

describe.each(expressMajors)("on %s", (_major, createExpress) => {
  describe.each(storages)("with %s, the session cookie is on the response and the session saved", (_storage, makeStorage) => {
    let app: Express;
    beforeAll(() => {
      app = appWithSessions(responseRoutes, { storage: makeStorage() }, createExpress);
    });

    test("when the handler answers with res.send", async () => {
      const res = await request(app).get("/send");
      expect(res.status).toBe(200);
      expect(res.text).toBe("sent with send");
      expect(setCookieFor(res)).toBeDefined();
      expect(await savedValue(app, res)).toBe("send");
    });

    test("when the handler answers with res.json", async () => {
      const res = await request(app).get("/json");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sent: "json" });
      expect(await savedValue(app, res)).toBe("json");
    });

    test("when the handler answers with res.redirect", async () => {
      const res = await request(app).get("/redirect");
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("/value/via");
      expect(await savedValue(app, res)).toBe("redirect");
    });

    test("when the handler answers with res.end", async () => {
      const res = await request(app).get("/end").buffer(true);
      expect(res.status).toBe(200);
      expect(res.text).toBe("ended");
      expect(await savedValue(app, res)).toBe("end");
    });

    test("when the handler streams with several res.write calls, then res.end", async () => {
      const res = await request(app).get("/write");
      expect(res.status).toBe(200);
      expect(res.text).toBe("one,two,three,four");
      expect(await savedValue(app, res)).toBe("write");
    });

    test("when a 2 MB stream is piped into the response, and the whole body arrives intact", async () => {
      const res = await request(app).get("/pipe");
      expect(res.status).toBe(200);
      expect(res.text.length).toBe(bigBody.length);
      expect(sha256(res.text)).toBe(bigBodyDigest);
      expect(await savedValue(app, res)).toBe("pipe");
    });

    test("when the handler answers with res.sendFile", async () => {
      const res = await request(app).get("/file");
      expect(res.status).toBe(200);
      expect(res.text).toBe(fileBody);
      expect(await savedValue(app, res)).toBe("sendFile");
    });

    test("when the handler calls res.writeHead explicitly, then res.end", async () => {
      const res = await request(app).get("/write-head");
      expect(res.status).toBe(201);
      expect(res.headers["content-type"]).toBe("text/plain");
      expect(res.text).toBe("created");
      expect(await savedValue(app, res)).toBe("writeHead");
    });

    test("when the request is a HEAD request", async () => {
      const res = await request(app).head("/send");
      expect(res.status).toBe(200);
      expect(res.text ?? "").toBe("");
      expect(setCookieFor(res)).toBeDefined();
      expect(await savedValue(app, res)).toBe("send");
    });

    test("when a conditional GET is answered 304 Not Modified", async () => {
      const first = await request(app).get("/etag");
      expect(first.status).toBe(200);
      const etag = first.headers.etag as string;
      expect(etag).toBeDefined();

      const second = await request(app).get("/etag").set("Cookie", cookiePair(first)).set("If-None-Match", etag);
      expect(second.status).toBe(304);
      expect(setCookieFor(second)).toBeDefined();
      expect(await savedValue(app, second, "visits")).toBe(2);
    });

    test("when the handler calls res.flushHeaders before writing the body", async () => {
      const res = await request(app).get("/flush");
      expect(res.status).toBe(200);
      expect(res.text).toBe("flushed,then ended");
      expect(await savedValue(app, res)).toBe("flushHeaders");
    });
  });

  describe("only what must be persisted is committed", () => {
    test("a request that never touches the session gets no cookie, and the storage is never asked to commit", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.get("/page", (_req, res) => res.send("a page"));
          app.get("/elsewhere", (_req, res) => res.redirect("/page"));
          app.get("/stream", (_req, res) => {
            res.type("text");
            bigStream().pipe(res);
          });
          app.get("/file", (_req, res) => res.sendFile(tempFile));
        },
        { storage },
        createExpress,
      );
      for (const path of ["/page", "/elsewhere", "/stream", "/file"]) {
        const res = await request(app).get(path);
        expect(res.status).toBeLessThan(400);
        expect(setCookies(res)).toEqual([]);
      }
      expect(storage.commits).toBe(0);
    });

    test("reading an existing value without changing it sends no cookie and commits nothing", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/login", (req, res) => {
            req.session.set("user", { id: 7, name: "Ada" });
            res.sendStatus(204);
          });
          app.get("/me", (req, res) => res.json(req.session.get("user") ?? null));
        },
        { storage },
        createExpress,
      );
      const login = await request(app).post("/login");
      expect(storage.commits).toBe(1);

      const me = await request(app).get("/me").set("Cookie", cookiePair(login));
      expect(me.body).toEqual({ id: 7, name: "Ada" });
      expect(setCookies(me)).toEqual([]);
      expect(storage.commits).toBe(1);
    });

    test("a value mutated in place (cart.items.push) is committed", async () => {
      const app = appWithSessions(
        (app) => {
          app.post("/cart", (req, res) => {
            req.session.set("cart", { items: ["apple"] });
            res.sendStatus(204);
          });
          app.post("/cart/pear", (req, res) => {
            (req.session.get("cart") as { items: string[] }).items.push("pear");
            res.sendStatus(204);
          });
          app.get("/cart", (req, res) => res.json(req.session.get("cart")));
        },
        { storage: slowStorage(cookieStorage(), 100) },
        createExpress,
      );
      const created = await request(app).post("/cart");
      const added = await request(app).post("/cart/pear").set("Cookie", cookiePair(created));
      expect(setCookieFor(added)).toBeDefined();

      const cart = await request(app).get("/cart").set("Cookie", cookiePair(added));
      expect(cart.body).toEqual({ items: ["apple", "pear"] });
    });

    test("reading a flash from an earlier request commits its removal; a request that does not read it sends no cookie", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/save", (req, res) => {
            req.session.flash("message", "Saved");
            res.redirect("/");
          });
          app.get("/poll", (_req, res) => res.json({ ok: true }));
          app.get("/", (req, res) => res.send(String(req.session.get("message") ?? "")));
        },
        { storage },
        createExpress,
      );
      const saved = await request(app).post("/save");
      const poll = await request(app).get("/poll").set("Cookie", cookiePair(saved));
      expect(setCookies(poll)).toEqual([]);
      expect(storage.commits).toBe(1);

      const shown = await request(app).get("/").set("Cookie", cookiePair(saved));
      expect(shown.text).toBe("Saved");
      expect(setCookieFor(shown)).toBeDefined();
      expect(storage.commits).toBe(2);
      const again = await request(app).get("/").set("Cookie", cookiePair(shown));
      expect(again.text).toBe("");
    });

    test("a handler that awaits req.session.commit() itself gets the header on its response, committed once", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/login", async (req, res) => {
            req.session.set("user", "ada");
            const header = await req.session.commit();
            res.json({ header });
          });
          app.get("/value/:key", (req, res) => res.json({ value: req.session.get(String(req.params.key)) ?? null }));
        },
        { storage },
        createExpress,
      );
      const res = await request(app).post("/login");
      expect(res.status).toBe(200);
      expect(setCookies(res)).toEqual([res.body.header]);
      expect(storage.commits).toBe(1);
      expect(await savedValue(app, res, "user")).toBe("ada");
    });

    test("a handler that starts a commit without awaiting it and answers at once gets that commit's header, committed once", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/login", (req, res) => {
            req.session.set("user", "ada");
            void req.session.commit();
            res.send("welcome");
          });
          app.get("/value/:key", (req, res) => res.json({ value: req.session.get(String(req.params.key)) ?? null }));
        },
        { storage },
        createExpress,
      );
      const res = await request(app).post("/login");
      expect(setCookies(res).filter((cookie) => cookie.startsWith("sid="))).toHaveLength(1);
      expect(storage.commits).toBe(1);
      expect(await savedValue(app, res, "user")).toBe("ada");
    });

    test("a handler that commits, then sets the header itself, does not get the cookie twice", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/login", async (req, res) => {
            req.session.set("user", "ada");
            res.append("Set-Cookie", await req.session.commit());
            res.send("welcome");
          });
        },
        { storage },
        createExpress,
      );
      const res = await request(app).post("/login");
      expect(setCookies(res).filter((cookie) => cookie.startsWith("sid="))).toHaveLength(1);
      expect(storage.commits).toBe(1);
    });

    test("a handler that commits, then changes the session again, gets a second commit with the later state", async () => {
      const storage = slowStorage(cookieStorage(), 100);
      const app = appWithSessions(
        (app) => {
          app.post("/steps", async (req, res) => {
            req.session.set("step", 1);
            await req.session.commit();
            req.session.set("step", 2);
            res.send("two steps");
          });
          app.get("/value/:key", (req, res) => res.json({ value: req.session.get(String(req.params.key)) ?? null }));
        },
        { storage },
        createExpress,
      );
      const res = await request(app).post("/steps");
      expect(storage.commits).toBe(2);
      expect(setCookies(res).filter((cookie) => cookie.startsWith("sid="))).toHaveLength(1);
      expect(await savedValue(app, res, "step")).toBe(2);
    });
  });

  describe("the session is saved before any byte of the response leaves", () => {
    test.each([
      [
        "a redirect",
        (res: Response) => res.redirect("/"),
        /^HTTP\/1\.1 302 /,
      ],
      [
        "a streamed response (flushHeaders, then several writes)",
        (res: Response) => {
          res.type("text");
          res.flushHeaders();
          res.write("one,");
          res.write("two,");
          res.end("three");
        },
        /^HTTP\/1\.1 200 [^]*one,[^]*two,[^]*three/,
      ],
    ])("no byte of %s reaches the client before a 100 ms commit has finished", async (_kind, answer, expected) => {
      const slow = slowStorage(cookieStorage(), 100);
      const progress = { committed: false };
      const storage: AnyStorage = {
        fromHeader: (header) => slow.fromHeader(header),
        async toHeader(session, metadata) {
          const header = await slow.toHeader(session, metadata);
          progress.committed = true;
          return header;
        },
      };
      const app = appWithSessions(
        (app) => {
          app.post("/login", (req, res) => {
            req.session.set("user", "ada");
            answer(res);
          });
        },
        { storage },
        createExpress,
      );
      const { committedAtFirstByte, raw } = await rawExchange(
        app,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        () => progress.committed,
      );
      expect(committedAtFirstByte).toBe(true);
      expect(raw).toMatch(expected);
      expect(raw).toMatch(/\r\nset-cookie: sid=/i);
    });

    test("a browser that follows the redirect at once finds the session saved by a slow server-side storage", async () => {
      const app = appWithSessions(
        (app) => {
          app.post("/login", (req, res) => {
            req.session.set("user", "ada");
            res.redirect("/home");
          });
          app.get("/home", (req, res) => res.send(`hello ${String(req.session.get("user") ?? "stranger")}`));
        },
        { storage: slowServerSideStorage(100) },
        createExpress,
      );
      const browser = request.agent(app);
      const res = await browser.post("/login").redirects(1);
      expect(res.status).toBe(200);
      expect(res.text).toBe("hello ada");
    });
  });

  describe("other cookies on the response are kept and ours is appended", () => {
    const setUser: RequestHandler = (req, _res, next) => {
      req.session.set("user", "ada");
      next();
    };

    test("a Set-Cookie string set by a middleware mounted before ours", async () => {
      const app = appWith(createExpress, [
        (_req, res, next) => {
          res.setHeader("Set-Cookie", "before=1; Path=/");
          next();
        },
        sessions({ storage: slowStorage(cookieStorage(), 100) }),
        setUser,
      ]);
      const res = await request(app).get("/");
      expect(setCookies(res)).toEqual(["before=1; Path=/", expect.stringMatching(/^sid=/)]);
    });

    test("a Set-Cookie array set by a middleware mounted before ours", async () => {
      const app = appWith(createExpress, [
        (_req, res, next) => {
          res.setHeader("Set-Cookie", ["a=1; Path=/", "b=2; Path=/"]);
          next();
        },
        sessions({ storage: slowStorage(cookieStorage(), 100) }),
        setUser,
      ]);
      const res = await request(app).get("/");
      expect(setCookies(res)).toEqual(["a=1; Path=/", "b=2; Path=/", expect.stringMatching(/^sid=/)]);
    });

    test("a Set-Cookie string set by a middleware mounted after ours", async () => {
      const app = appWith(createExpress, [
        sessions({ storage: slowStorage(cookieStorage(), 100) }),
        setUser,
        (_req, res, next) => {
          res.setHeader("Set-Cookie", "after=1; Path=/");
          next();
        },
      ]);
      const res = await request(app).get("/");
      expect(setCookies(res)).toEqual(["after=1; Path=/", expect.stringMatching(/^sid=/)]);
    });

    test("a Set-Cookie array set by a middleware mounted after ours, and res.cookie in the handler", async () => {
      const app = appWith(
        createExpress,
        [
          sessions({ storage: slowStorage(cookieStorage(), 100) }),
          setUser,
          (_req, res, next) => {
            res.setHeader("Set-Cookie", ["c=3; Path=/", "d=4; Path=/"]);
            next();
          },
        ],
        (_req, res) => {
          res.cookie("theme", "dark");
          res.send("ok");
        },
      );
      const res = await request(app).get("/");
      expect(setCookies(res)).toEqual(["c=3; Path=/", "d=4; Path=/", "theme=dark; Path=/", expect.stringMatching(/^sid=/)]);
    });

    test("a Set-Cookie passed in the headers of an explicit res.writeHead", async () => {
      const app = appWith(
        createExpress,
        [sessions({ storage: slowStorage(cookieStorage(), 100) }), setUser],
        (_req, res) => {
          res.writeHead(200, { "Content-Type": "text/plain", "Set-Cookie": "inhead=1; Path=/" });
          res.end("ok");
        },
      );
      const res = await request(app).get("/");
      expect(res.text).toBe("ok");
      expect(setCookies(res)).toEqual(expect.arrayContaining(["inhead=1; Path=/", expect.stringMatching(/^sid=/)]));
    });
  });

  describe("a middleware that wraps res.write and res.end after ours (as compression does) still works", () => {
    function upperCaseBodies(log: { chunks: number; headersHooked: number }): RequestHandler {
      return (_req, res, next) => {
        const write = res.write;
        const end = res.end;
        const writeHead = res.writeHead;
        const upper = (chunk: unknown) =>
          typeof chunk === "string" ? chunk.toUpperCase() : Buffer.isBuffer(chunk) ? Buffer.from(chunk.toString("latin1").toUpperCase(), "latin1") : chunk;
        res.writeHead = function (this: Response, ...args: unknown[]) {
          log.headersHooked++;
          this.setHeader("X-Wrapped", "yes");
          this.removeHeader("Content-Length");
          return (writeHead as (...args: unknown[]) => Response).apply(this, args);
        } as Response["writeHead"];
        res.write = function (this: Response, chunk: unknown, ...rest: unknown[]) {
          log.chunks++;
          return (write as (...args: unknown[]) => boolean).call(this, upper(chunk), ...rest);
        } as Response["write"];
        res.end = function (this: Response, chunk?: unknown, ...rest: unknown[]) {
          if (chunk !== undefined && typeof chunk !== "function") log.chunks++;
          return (end as (...args: unknown[]) => Response).call(this, upper(chunk), ...rest);
        } as Response["end"];
        next();
      };
    }

    test.each([
      ["res.send", (res: Response) => res.send("hello there"), "HELLO THERE"],
      [
        "streaming writes",
        (res: Response) => {
          res.type("text");
          res.write("one ");
          res.write("two ");
          res.end("three");
        },
        "ONE TWO THREE",
      ],
      ["res.json", (res: Response) => res.status(200).json({ word: "shout" }), '{"WORD":"SHOUT"}'],
    ])("with %s and a 100 ms commit", async (_way, answer, expected) => {
      const log = { chunks: 0, headersHooked: 0 };
      const app = appWith(
        createExpress,
        [sessions({ storage: slowStorage(cookieStorage(), 100) }), upperCaseBodies(log)],
        (req, res) => {
          req.session.set("user", "ada");
          answer(res);
        },
      );
      const res = await request(app).get("/").buffer(true).parse(textParser);
      expect(res.status).toBe(200);
      expect(res.body).toBe(expected);
      expect(res.headers["x-wrapped"]).toBe("yes");
      expect(setCookieFor(res)).toBeDefined();
      expect(log.headersHooked).toBe(1);
      expect(log.chunks).toBeGreaterThan(0);
    });

    test("with a 2 MB piped stream and a 100 ms commit, every chunk arrives", async () => {
      const log = { chunks: 0, headersHooked: 0 };
      const app = appWith(
        createExpress,
        [sessions({ storage: slowStorage(cookieStorage(), 100) }), upperCaseBodies(log)],
        (req, res) => {
          req.session.set("user", "ada");
          res.type("text");
          bigStream().pipe(res);
        },
      );
      const res = await request(app).get("/").buffer(true).parse(textParser);
      expect(res.body).toBe(bigBody.toUpperCase());
      expect(setCookieFor(res)).toBeDefined();
      expect(log.chunks).toBe(bigChunkCount);
    });
  });
});

/** Reads any body as text, whatever its content type. */
function textParser(res: request.Response, callback: (error: Error | null, body: string) => void): void {
  // In Node, superagent hands the parser the raw IncomingMessage.
  const stream = res as unknown as NodeJS.ReadableStream;
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (text += chunk));
  stream.on("end", () => callback(null, text));
}

/** An app with `middlewares` then `handler` on GET /, and the fixtures' error handler shape. */
function appWith(
  createExpress: ExpressFactory,
  middlewares: RequestHandler[],
  handler: RequestHandler = (_req, res) => {
    res.send("ok");
  },
): Express {
  const app = createExpress();
  for (const middleware of middlewares) app.use(middleware);
  app.get("/", handler);
  app.use((error: Error, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    res.status(500).type("text").send(`${error.name}: ${error.message}`);
  });
  return app;
}

/**
 * A do-it-yourself server-side storage: the data lives in a Map, the cookie carries an
 * encrypted id, and saving takes `delayMs` (like a remote database).
 */
function slowServerSideStorage(delayMs: number) {
  const sessionsById = new Map<string, [string, unknown][]>();
  return withEncryptedCookies({
    cookie: testCookie(),
    storage: {
      async fromHeader(id?: string) {
        const entries = id === undefined ? undefined : sessionsById.get(id);
        const session: StoredSession<unknown> = { content: new Map(entries ?? []), flashedKeys: new Set() };
        return [session, id ?? randomUUID()] as [StoredSession<unknown>, string];
      },
      async toHeader(session: StoredSession<unknown>, id: string) {
        await sleep(delayMs);
        sessionsById.set(id, [...session.content]);
        return id;
      },
    },
  });
}

/**
 * Sends `rawRequest` over a plain TCP socket to the app, and reports what `probe()`
 * returned at the moment the first byte of the response arrived.
 */
async function rawExchange(
  app: Express,
  rawRequest: string,
  probe: () => boolean,
): Promise<{ committedAtFirstByte: boolean | undefined; raw: string }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      let committedAtFirstByte: boolean | undefined;
      let raw = "";
      const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write(rawRequest));
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        if (committedAtFirstByte === undefined) committedAtFirstByte = probe();
        raw += chunk;
      });
      socket.on("end", () => resolve({ committedAtFirstByte, raw }));
      socket.on("error", reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
