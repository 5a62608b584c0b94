// Shared set-up for the test suites: apps, storages and cookie helpers, so each test reads as a story.
import express, { type Express, type Request, type Response } from "express";
import type { Response as TestResponse } from "supertest";
import {
  createCookieSessionStorage,
  sessions,
  type CookieOptions,
  type SessionStorage,
  type SessionsOptions,
} from "../lib/index.js";

/** 32+ characters, as the options require. */
export const testSecret = "test-secret-0123456789-abcdefghijklmnop";
export const otherSecret = "another-secret-0123456789-abcdefghijklm";

/** Cookie settings for tests over plain http (supertest does not send Secure cookies there). */
export function testCookie(overrides: Partial<CookieOptions> = {}): CookieOptions {
  return { name: "sid", secret: testSecret, secure: false, ...overrides };
}

export function cookieStorage(overrides: Partial<CookieOptions> = {}) {
  return createCookieSessionStorage({ cookie: testCookie(overrides) });
}

type ExpressFactory = () => Express;

/**
 * An Express app with the session middleware mounted, the routes `define` adds,
 * and an error handler that answers `500 <error name>: <message>`.
 */
export function appWithSessions(
  define: (app: Express) => void,
  options: Partial<SessionsOptions> = {},
  createExpress: ExpressFactory = express as unknown as ExpressFactory,
): Express {
  const app = createExpress();
  app.use(sessions({ storage: cookieStorage(), ...options }));
  define(app);
  app.use((error: Error, _req: Request, res: Response, next: (error?: unknown) => void) => {
    if (res.headersSent) return next(error);
    res.status(500).type("text").send(`${error.name}: ${error.message}`);
  });
  return app;
}

/** Every `Set-Cookie` header of a response, as an array. */
export function setCookies(res: TestResponse): string[] {
  const header = res.headers["set-cookie"] as string | string[] | undefined;
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/** The `Set-Cookie` header for cookie `name`, or `undefined`. */
export function setCookieFor(res: TestResponse, name = "sid"): string | undefined {
  return setCookies(res).find((cookie) => cookie.startsWith(`${name}=`));
}

/** The `name=value` pair to send back as a `Cookie` header, as a browser would. Throws when absent. */
export function cookiePair(res: TestResponse, name = "sid"): string {
  const header = setCookieFor(res, name);
  if (!header) throw new Error(`expected a Set-Cookie for "${name}", got: ${JSON.stringify(setCookies(res))}`);
  return header.split(";")[0]!;
}

/** Wraps a storage so that every toHeader (and optionally fromHeader) takes `delayMs`. */
export function slowStorage<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  delayMs: number,
  { slowReads = false } = {},
): SessionStorage<Value, Metadata> & { commits: number } {
  const wrapped = {
    commits: 0,
    async fromHeader(header?: string) {
      if (slowReads) await sleep(delayMs);
      return storage.fromHeader(header);
    },
    async toHeader(session: Parameters<typeof storage.toHeader>[0], metadata: Metadata) {
      await sleep(delayMs);
      wrapped.commits++;
      return storage.toHeader(session, metadata);
    },
    needsCommit: storage.needsCommit?.bind(storage),
  };
  return wrapped;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
