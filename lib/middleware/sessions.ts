import type { IncomingMessage, ServerResponse } from "node:http";
import { SessionConfigError, SessionNotLoadedError, unknownOptionError } from "../errors.js";
import { readRequestHeader, validateHeaderName } from "../request-header.js";
import type { SessionStorage } from "../session-storage.js";
import { TrackedSessionStore, type SessionRecord, type SessionStore } from "../session-store.js";
// Under another name inside `declare global`: @types/express-session declares a global
// `Express.SessionStore`, which would shadow ours there.
import type { SessionStore as RemasteredSessionStore } from "../session-store.js";
import type { MaybePromise } from "../maybe-promise.js";
import { holdResponse } from "./hold-response.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The session of this request, loaded by the `sessions()` middleware. For typed keys,
       * use `middleware.sessionOf(req)` of a `sessions<Data, Flash>()` middleware.
       */
      session: RemasteredSessionStore<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    }
  }
}

export type SessionsOptions = {
  /** Where sessions live: `createCookieSessionStorage(...)`, `createMemorySessionStorage(...)`, or your own. */
  storage: SessionStorage<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The request header handed to the storage. Default `"cookie"`; e.g. `"authorization"` for token clients. */
  headerName?: string;
  /**
   * The response header that carries the committed value. Default `"set-cookie"`
   * (appended beside other cookies); e.g. `"x-session-token"` for token clients.
   */
  responseHeaderName?: string;
};

type NextFunction = (error?: unknown) => void;

/** A `(req, res, next)` middleware for Express, Connect or `node:http`, with typed access to the session. */
export type SessionMiddleware<Data extends object, Flash extends object> = {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void;
  /**
   * The session of `req`, typed with the middleware's `Data` and `Flash`.
   * @throws SessionNotLoadedError when this middleware did not run for `req`.
   */
  sessionOf(req: IncomingMessage): SessionStore<unknown, Data, Flash>;
};

const knownOptions = new Set(["storage", "headerName", "responseHeaderName"]);

/**
 * The Express/Connect middleware: loads `req.session` from the request's `Cookie`
 * header (or `headerName`) through `storage`, and commits it by itself when the
 * response goes out, before a single byte leaves, and only when something changed.
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
>(options: SessionsOptions): SessionMiddleware<Data, Flash> {
  const { storage, requestHeader, responseHeader } = validateOptions(options);
  // Each middleware keeps its session on the request under its own symbol: a WeakMap
  // would do too, but weak keys that die by the thousand per second cost the GC dearly.
  const sessionKey = Symbol("remastered-sessions");
  type RequestWithSession = IncomingMessage & { [sessionKey]?: TrackedSessionStore<unknown, unknown>; session?: unknown };

  const attachHeader = (res: ServerResponse, header: string | undefined) => {
    if (header === undefined) return;
    if (responseHeader !== "set-cookie") {
      res.setHeader(responseHeader, header);
      return;
    }
    // Other middlewares' cookies stay; a header the handler already set itself is not repeated.
    const existing = res.getHeader("set-cookie");
    const cookies = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    if (!cookies.includes(header)) res.setHeader("set-cookie", [...cookies, header]);
  };

  const middleware = (req: RequestWithSession, res: ServerResponse, next: NextFunction): void => {
    if (req[sessionKey]) return next(); // mounted twice on one route
    let opened: MaybePromise<TrackedSessionStore<unknown, unknown>>;
    try {
      opened = TrackedSessionStore.openMaybeSync(storage, readRequestHeader(req, requestHeader));
    } catch (error) {
      return next(error);
    }
    // A session found at once (a cookie seen before, a session in memory) goes on in the same tick.
    if (opened instanceof Promise) opened.then((session) => expose(req, res, next, session), next);
    else expose(req, res, next, opened);
  };

  const expose = (req: RequestWithSession, res: ServerResponse, next: NextFunction, session: TrackedSessionStore<unknown, unknown>) => {
    req[sessionKey] = session;
    req.session = session;
    holdResponse(res, {
      beforeHeaders() {
        // A storage that writes without waiting (a cookie to seal, a map to update) lets the response go at once.
        const committed = session.hasPendingChanges() ? session.commitPendingChangesMaybeSync() : undefined;
        if (committed instanceof Promise) return committed.then(() => attachHeader(res, session.committedHeader));
        attachHeader(res, session.committedHeader);
        return undefined;
      },
      beforeEndAfterHeaders() {
        // Too late for a header, but a server-side storage still saves the change.
        if (!session.hasPendingChanges()) return undefined;
        warnLateChange();
        return session.commitPendingChanges();
      },
      onError(error) {
        if (res.headersSent) {
          next(error);
          if (!res.writableEnded) res.destroy();
          return;
        }
        // The held response never left: clear it so the error handler starts from scratch.
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 500;
        next(error);
      },
    });
    next();
  };

  return Object.assign(middleware, {
    sessionOf(req: IncomingMessage) {
      const session = (req as RequestWithSession)[sessionKey];
      if (!session) throw new SessionNotLoadedError();
      return session as unknown as SessionStore<unknown, Data, Flash>;
    },
  });
}

function validateOptions(options: SessionsOptions) {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { storage }, e.g. sessions({ storage: createCookieSessionStorage({ cookie }) }).");
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) throw unknownOptionError("", key, knownOptions);
  }
  const { storage } = options;
  if (typeof storage?.fromHeader !== "function" || typeof storage.toHeader !== "function") {
    throw new SessionConfigError(
      "storage",
      "expected a session storage with fromHeader() and toHeader(), e.g. createCookieSessionStorage({ cookie: { name, secret } }).",
    );
  }
  return {
    storage,
    requestHeader: validateHeaderName("headerName", options.headerName ?? "cookie"),
    responseHeader: validateHeaderName("responseHeaderName", options.responseHeaderName ?? "set-cookie"),
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
