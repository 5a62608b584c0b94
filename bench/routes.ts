/**
 * The route handlers every variant runs: only the way the session is read and written
 * (a `BenchVariant`) differs between variants, so every variant does the same work.
 *
 * - `POST /setup/:bytes` starts a session: counter 0 and a user object of `bytes` bytes of JSON.
 * - `GET /read` only reads the session and answers its user id and counter.
 * - `POST /write/:bytes` reads the counter, increments it and stores a fresh user object of
 *   `bytes` bytes of JSON (the session changes on every request).
 *
 * `/read` and `/write` answer 401 when the request carried no valid session (no user, or
 * not ours), and count it: the harness marks such a variant INVALID. A valid answer has the
 * header `x-session-user: 42` and a small JSON body.
 */
import type { Express, NextFunction, Request, Response } from "express";
import { benchUserId, checkHeader } from "./config.js";

export type BenchUser = {
  id: number;
  name: string;
  email: string;
  roles: string[];
  bio: string;
};

/** What the routes keep in a session, whatever the library. */
export type BenchSession = { counter: number; user: BenchUser };

/** How one variant reads and writes the session of a request (see `variants/`). */
/** Calls to a server so far, by kind: `{ HGETALL: 10, EVALSHA: 10 }`, `{ statement: 20 }`. */
export type ServerCallCounts = Record<string, number>;

export type BenchVariant = {
  /** Mounts the session middleware, if the variant has one, before the shared routes. */
  mount(app: Express): void;
  /** The request's session as the routes see it, or `undefined` when it has none. */
  get(req: Request, res: Response): BenchSession | undefined | Promise<BenchSession | undefined>;
  /** Stores `session` as the request's session (the library persists it its own way). */
  set(req: Request, res: Response, session: BenchSession): void | Promise<void>;
  /** Releases what the variant holds when the server stops (e.g. deletes its Redis keys). */
  close?(): Promise<void>;
  /**
   * Variants on a server (Redis, a database): the calls their client made so far, by kind
   * (Redis command names, see `variants/redis-command-counter.ts`; `statement` for a
   * database), each one a round trip.
   */
  serverCalls?(): ServerCallCounts;
};

/** What the child knows about a run's variant when it creates it. */
export type VariantContext = {
  /** Unique for the harness run: e.g. the Redis key prefix. */
  runId: string;
};

export type VariantFactory = (context: VariantContext) => BenchVariant | Promise<BenchVariant>;

/** Counted by the server; reported to the harness when it stops. */
export type ServerCounts = {
  /** `/read` and `/write` requests that found a valid session. */
  valid: number;
  /** `/read` and `/write` requests that found no valid session (answered 401). */
  invalid: number;
  /** Requests that reached the error handler (answered 500). */
  errors: number;
  /** The first few distinct error descriptions. */
  errorMessages: string[];
};

export function newServerCounts(): ServerCounts {
  return { valid: 0, invalid: 0, errors: 0, errorMessages: [] };
}

/** A route parameter "bytes": the size of the user object's JSON. */
const maxUserBytes = 64 * 1024;

export function mountRoutes(app: Express, variant: BenchVariant, counts: ServerCounts): void {
  app.post("/setup/:bytes", async (req, res) => {
    await variant.set(req, res, { counter: 0, user: makeUser(parseBytes(req.params.bytes)) });
    res.json({ ok: true });
  });

  app.get("/read", async (req, res) => {
    const session = await variant.get(req, res);
    if (!isValid(session)) return refuse(res, counts);
    counts.valid++;
    res.setHeader(checkHeader, String(session.user.id));
    res.json({ user: session.user.id, counter: session.counter });
  });

  app.post("/write/:bytes", async (req, res) => {
    const session = await variant.get(req, res);
    if (!isValid(session)) return refuse(res, counts);
    counts.valid++;
    const next: BenchSession = { counter: session.counter + 1, user: makeUser(parseBytes(req.params.bytes)) };
    await variant.set(req, res, next);
    res.setHeader(checkHeader, String(next.user.id));
    res.json({ user: next.user.id, counter: next.counter });
  });

  // Express 5 hands rejected promises of async handlers here.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    counts.errors++;
    const description = describeError(error);
    if (counts.errorMessages.length < 5 && !counts.errorMessages.includes(description)) {
      counts.errorMessages.push(description);
    }
    if (res.headersSent) return next(error);
    res.status(500).json({ error: description });
  });
}

function isValid(session: BenchSession | undefined): session is BenchSession {
  return session !== undefined && session.user?.id === benchUserId && typeof session.counter === "number";
}

function refuse(res: Response, counts: ServerCounts): void {
  counts.invalid++;
  res.status(401).json({ error: "no valid session" });
}

function parseBytes(raw: string | string[] | undefined): number {
  const bytes = Number(raw);
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > maxUserBytes) throw new RangeError(`bad size: ${String(raw)}`);
  return bytes;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return `${error.name}${typeof code === "string" ? ` [${code}]` : ""}: ${error.message}`;
  }
  return String(error);
}

const userTemplate = { id: benchUserId, name: "Ada Lovelace", email: "ada@example.com", roles: ["admin", "editor"] };
const emptyUserBytes = JSON.stringify({ ...userTemplate, bio: "" }).length;
const bios = new Map<number, string>();

/**
 * A fresh user object whose JSON is exactly `bytes` long (at least the ~90 bytes of its
 * fixed fields). The `bio` is deterministic pseudo-random lowercase text: about as
 * compressible as real text, so no library gains from a run of one repeated letter.
 */
export function makeUser(bytes: number): BenchUser {
  let bio = bios.get(bytes);
  if (bio === undefined) {
    bio = fillerText(Math.max(0, bytes - emptyUserBytes));
    bios.set(bytes, bio);
  }
  return { id: userTemplate.id, name: userTemplate.name, email: userTemplate.email, roles: [...userTemplate.roles], bio };
}

function fillerText(length: number): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let seed = 0x2545f491;
  const next = () => {
    // xorshift32: deterministic, so every variant and every run stores the same text.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>>= 0);
  };
  let text = "";
  while (text.length < length) {
    const wordLength = 2 + (next() % 8);
    for (let i = 0; i < wordLength && text.length < length; i++) text += letters[next() % 26];
    if (text.length < length) text += " ";
  }
  return text;
}
