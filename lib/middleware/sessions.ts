import type { IncomingMessage, ServerResponse } from "node:http";
import { cookieHeaderForToken, tokenOfSetCookie } from "../cookie/cookie-header.js";
import { refuseUnknownOptions, SessionConfigError, SessionNotLoadedError } from "../errors.js";
import { readRequestHeader, validateHeaderName } from "../request-header.js";
import { defaultStorageTimeout, validateTimeout } from "../storage-timeout.js";
import type { SessionGone, SessionLifetime, SessionStorage, StoredSession } from "../session-storage.js";
import { TrackedSessionStore, type SessionRecord, type SessionStore } from "../session-store.js";
// Under another name inside `declare global`: @types/express-session declares a global
// `Express.SessionStore`, which would shadow ours there.
import type { SessionStore as RemasteredSessionStore } from "../session-store.js";
import type { MaybePromise } from "../maybe-promise.js";
import { createResponseHolder, type ResponseHooks } from "./hold-response.js";

/**
 * What `sessions()` adds to Express's request (`Express.Request` extends it), as `req.session`.
 * Inherited, not declared on `Express.Request` itself, so that it can coexist with
 * `@types/express-session` during a migration: express-session's own `session` then takes
 * precedence, ours asks nothing of it (`unknown`), and our session is `middleware.sessionOf(req)`.
 *
 * @example
 * app.get("/", (req, res) => {
 *   res.send(`Visits: ${req.session.get("visits") ?? 0}`); // req.session: a SessionStore
 * });
 */
export interface RemasteredSessionRequest {
  /**
   * The session of this request, loaded by the `sessions()` middleware. For typed keys,
   * use `middleware.sessionOf(req)` of a `sessions<Data, Flash>()` middleware.
   */
  session: Express.Request extends { sessionID: string } ? unknown : RemasteredSessionStore<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request extends RemasteredSessionRequest {} // eslint-disable-line @typescript-eslint/no-empty-object-type
  }
}

/**
 * A storage that can hold every value of a session's `Data` and `Flash`: `Date` fits a
 * memory storage (`Value` is `unknown`) but not a cookie storage (`Serializable`). Its
 * `toHeader` is written as a function-typed property, which TypeScript checks strictly
 * (a method's parameters would be checked loosely and let a `Date` through).
 *
 * @example
 * type Data = { lastSeen: Date };
 * sessions<Data>({ storage: createMemorySessionStorage({ cookie }) }); // fine: memory holds any value
 * sessions<Data>({ storage: createCookieSessionStorage({ cookie }) }); // compile error: a Date is not JSON
 */
export interface SessionStorageFor<Values> extends Omit<SessionStorage<any, any>, "toHeader"> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The storage's commit phase (see `SessionStorage.toHeader`), typed so that it must accept the middleware's values. */
  toHeader: (session: StoredSession<Values>, metadata: any, lifetime?: SessionLifetime) => Promise<string | SessionGone>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The values a session with these keys holds; an optional key adds no `undefined`. */
type ValuesOf<Data extends object> = Required<Data>[keyof Data & string];

/**
 * Options of `sessions()`.
 *
 * @example
 * const options: SessionsOptions = { storage, headerName: "authorization", responseHeaderName: "x-session-token" };
 * app.use("/api", sessions(options));
 */
export type SessionsOptions<
  Data extends object = SessionRecord<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  Flash extends object = Data,
> = {
  /**
   * Where sessions live: `createCookieSessionStorage(...)`, `createMemorySessionStorage(...)`,
   * or your own. With `sessions<Data, Flash>()`, it must be able to hold their values.
   */
  storage: SessionStorageFor<ValuesOf<Data> | ValuesOf<Flash>>;
  /**
   * The request header handed to the storage. Default `"cookie"`. Any other header
   * (e.g. `"authorization"`) carries a bare token, optionally as `Bearer <token>`.
   */
  headerName?: string;
  /**
   * The response header that carries the committed value. Default `"set-cookie"`
   * (appended beside other cookies). Any other header (e.g. `"x-session-token"`) carries
   * the bare token, with no cookie attributes; an empty value tells the client its token
   * is over (after `destroy()`).
   */
  responseHeaderName?: string;
  /**
   * Milliseconds a storage call may take before the request fails with
   * `SessionStorageTimeoutError` (through `next(err)`). Default 3000; `Infinity` for none.
   */
  storageTimeout?: number;
};

type NextFunction = (error?: unknown) => void;

/**
 * A `(req, res, next)` middleware for Express, Connect or `node:http`, with typed access to the session.
 *
 * @example
 * const session: SessionMiddleware<{ user: { id: number } }, { message: string }> = sessions({ storage });
 * app.use(session);
 * app.get("/", (req, res) => res.json(session.sessionOf(req).get("user") ?? null));
 */
export type SessionMiddleware<Data extends object, Flash extends object> = {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void;
  /**
   * The session of `req`, typed with the middleware's `Data` and `Flash`.
   * @throws SessionNotLoadedError when this middleware did not run for `req`.
   */
  sessionOf(req: IncomingMessage): SessionStore<unknown, Data, Flash>;
};

const knownOptions = new Set(["storage", "headerName", "responseHeaderName", "storageTimeout"]);

/**
 * The Express/Connect middleware: loads `req.session` from the request's `Cookie`
 * header (or `headerName`) through `storage`, and commits it by itself when the
 * response goes out, before a single byte leaves, and only when something changed.
 *
 * `next(err)` receives a storage failure, also one that happens after the handler
 * answered (the held response is then dropped, and the error handler answers). On plain
 * `node:http`, pass a `next` that handles an error: `(err) => err ? fail(res, err) : route(req, res)`.
 *
 * @example
 * app.use(sessions({
 *   storage: createCookieSessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * }));
 * app.post("/login", (req, res) => {
 *   req.session.set("user", { id: 1 });
 *   req.session.flash("message", "Welcome back");
 *   res.redirect("/");
 * });
 *
 * @example
 * // Typed keys, no declaration merging:
 * const session = sessions<{ user: { id: number } }, { message: string }>({ storage });
 * app.use(session);
 * app.get("/", (req, res) => res.send(session.sessionOf(req).get("message") ?? ""));
 */
export function sessions<
  Data extends object = SessionRecord<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  Flash extends object = Data,
>(options: SessionsOptions<Data, Flash>): SessionMiddleware<Data, Flash> {
  const { storage, requestHeader, transport, storageTimeout } = validateOptions(options);
  // The session is found on req.session, recognised by its storage. Only when another
  // middleware holds req.session (express-session during a migration) does it go under
  // this middleware's own symbol: every property added to an Express request costs a
  // hidden-class transition (several µs on Node 20), and a WeakMap's dying keys cost the GC.
  const sessionKey = Symbol("remastered-sessions");
  type RequestWithSession = IncomingMessage & { [sessionKey]?: TrackedSessionStore<unknown, unknown>; session?: unknown };
  const holdResponse = createResponseHolder();
  const ownSessionOf = (req: RequestWithSession): TrackedSessionStore<unknown, unknown> | undefined => {
    const { session } = req;
    if (session instanceof TrackedSessionStore && session.isOpenedThrough(storage)) return session;
    return req[sessionKey];
  };

  const middleware = (req: RequestWithSession, res: ServerResponse, next: NextFunction): void => {
    if (ownSessionOf(req)) return next(); // mounted twice on one route
    let opened: MaybePromise<TrackedSessionStore<unknown, unknown>>;
    try {
      opened = TrackedSessionStore.openMaybeSync(storage, transport.storageHeaderOf(readRequestHeader(req, requestHeader)), storageTimeout);
    } catch (error) {
      return next(error);
    }
    // A session found at once (a cookie seen before, a session in memory) goes on in the same tick.
    if (opened instanceof Promise) opened.then((session) => expose(req, res, next, session), next);
    else expose(req, res, next, opened);
  };

  const expose = (req: RequestWithSession, res: ServerResponse, next: NextFunction, session: TrackedSessionStore<unknown, unknown>) => {
    // Another session middleware mounted first (express-session during a migration) keeps
    // req.session; ours is then middleware.sessionOf(req).
    if (req.session === undefined) req.session = session;
    else req[sessionKey] = session;
    holdResponse(res, new CommitBeforeHeaders(session, res, next, transport));
    next();
  };

  return Object.assign(middleware, {
    sessionOf(req: IncomingMessage) {
      const session = ownSessionOf(req as RequestWithSession);
      if (!session) throw new SessionNotLoadedError();
      return session as unknown as SessionStore<unknown, Data, Flash>;
    },
  });
}

/** The response hooks of one request: commit the session before the headers, and set its header. */
class CommitBeforeHeaders implements ResponseHooks {
  readonly #session: TrackedSessionStore<unknown, unknown>;
  readonly #res: ServerResponse;
  readonly #next: NextFunction;
  readonly #transport: HeaderTransport;

  constructor(session: TrackedSessionStore<unknown, unknown>, res: ServerResponse, next: NextFunction, transport: HeaderTransport) {
    this.#session = session;
    this.#res = res;
    this.#next = next;
    this.#transport = transport;
  }

  beforeHeaders(): Promise<void> | undefined {
    // A storage that writes without waiting (a cookie to seal, a map to update) lets the response go at once.
    return this.#session.hasPendingChanges() ? (this.#session.commitPendingChangesMaybeSync() ?? undefined) : undefined;
  }

  setHeaders(): void {
    const header = this.#session.committedHeader;
    if (header) this.#transport.setResponseHeader(this.#res, header);
  }

  beforeEndAfterHeaders(): Promise<void> | undefined {
    // Too late for a header, but a server-side storage still saves the change.
    if (!this.#session.hasPendingChanges()) return undefined;
    warnLateChange();
    return this.#session.commitPendingChanges();
  }

  onError(error: unknown): void {
    const res = this.#res;
    if (res.headersSent) {
      // Part of the response left: close the connection, so the client never takes it for whole.
      this.#next(error);
      if (!res.writableEnded) res.destroy();
      return;
    }
    // The held response never left: clear it so the error handler starts from scratch.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    this.#next(error);
  }
}

/**
 * How the session travels: in cookies (`Cookie` in, `Set-Cookie` out, appended beside
 * other cookies), or, for token clients, as a bare token in the configured headers
 * (for storages that seal a cookie, which know their cookie's name).
 */
type HeaderTransport = {
  storageHeaderOf(requestHeader: string | undefined): string | undefined;
  setResponseHeader(res: ServerResponse, header: string): void;
};

function headerTransport(storage: SessionStorage<unknown, unknown>, requestHeader: string, responseHeader: string): HeaderTransport {
  const cookieName = (storage as { cookie?: { name?: unknown } }).cookie?.name;
  const sealsCookies = typeof cookieName === "string";
  const takesTokens = sealsCookies && requestHeader !== "cookie";
  const sendsTokens = sealsCookies && responseHeader !== "set-cookie";
  return {
    storageHeaderOf: takesTokens ? (header) => cookieHeaderForToken(header, cookieName) : (header) => header,
    setResponseHeader:
      responseHeader === "set-cookie"
        ? appendSetCookie
        : (res, header) => res.setHeader(responseHeader, sendsTokens ? tokenOfSetCookie(header) : header),
  };
}

/** Adds our Set-Cookie: other middlewares' cookies stay, and one the handler already set itself is not repeated. */
function appendSetCookie(res: ServerResponse, header: string): void {
  const existing = res.getHeader("set-cookie");
  const cookies = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  if (!cookies.includes(header)) res.setHeader("set-cookie", [...cookies, header]);
}

function validateOptions(options: SessionsOptions<any, any>) { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { storage }, e.g. sessions({ storage: createCookieSessionStorage({ cookie }) }).");
  }
  refuseUnknownOptions("", options, knownOptions);
  const { storage } = options;
  if (typeof storage?.fromHeader !== "function" || typeof storage.toHeader !== "function") {
    throw new SessionConfigError(
      "storage",
      "expected a session storage with fromHeader() and toHeader(), e.g. createCookieSessionStorage({ cookie: { name, secret } }).",
    );
  }
  const requestHeader = validateHeaderName("headerName", options.headerName ?? "cookie");
  const responseHeader = validateHeaderName("responseHeaderName", options.responseHeaderName ?? "set-cookie");
  return {
    storage,
    requestHeader,
    transport: headerTransport(storage, requestHeader, responseHeader),
    storageTimeout: validateTimeout("storageTimeout", options.storageTimeout, defaultStorageTimeout),
  };
}

let lateChangeWarned = false;

function warnLateChange(): void {
  if (lateChangeWarned) return;
  lateChangeWarned = true;
  process.emitWarning(
    "A session changed after the response headers were sent. The change is committed to the storage, " +
      "but the response cannot carry a new session header, so a cookie-only session loses it. " +
      "Change the session before the first res.write(), res.writeHead() or res.flushHeaders().",
    { code: "REMASTERED_SESSIONS_LATE_CHANGE" },
  );
}
