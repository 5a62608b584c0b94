/**
 * Every error this package throws on purpose is a `SessionError` with a stable
 * `code`, so callers can branch on `instanceof` or `code`, never on message text.
 *
 * @example
 * app.use((err, req, res, next) => {
 *   if (err instanceof CookieTooLargeError) return res.status(500).send("Session too large");
 *   next(err);
 * });
 */
export class SessionError extends Error {
  /** Stable across versions (`ERR_SESSION_...`): branch on it, never on the message. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A session option that cannot work (short secret, bad cookie name, ...).
 * Thrown when the storage or middleware is created, so a misconfigured app fails at start-up.
 *
 * @example
 * try {
 *   createCookieSessionStorage({ cookie: { name: "sid", secret: "too short" } });
 * } catch (error) {
 *   if (error instanceof SessionConfigError) console.error(error.option, error.message); // "cookie.secret", what to change
 * }
 */
export class SessionConfigError extends SessionError {
  /** The option at fault, e.g. `"cookie.secret"`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super("ERR_SESSION_CONFIG", `Invalid session option \`${option}\`: ${message}`);
    this.option = option;
  }
}

/**
 * The error for an option name nobody reads (usually a typo), suggesting the known
 * option it most likely meant (a difference in case, or one or two letters), or else
 * listing them all.
 */
export function unknownOptionError(prefix: string, key: string, knownOptions: Iterable<string>): SessionConfigError {
  const known = [...knownOptions];
  const suggestion = closestOption(key, known);
  return new SessionConfigError(
    `${prefix}${key}`,
    suggestion ? `unknown option; did you mean \`${suggestion}\`?` : `unknown option. Known options: ${known.join(", ")}.`,
  );
}

/** Throws `unknownOptionError` for the first key of `options` that is not a known option. */
export function refuseUnknownOptions(prefix: string, options: object, knownOptions: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) throw unknownOptionError(prefix, key, knownOptions);
  }
}

/** The known option within two edits of `key` (case ignored), the closest first; none when nothing is that close. */
function closestOption(key: string, known: string[]): string | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = editDistance(key.toLowerCase(), option.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { option, distance };
  }
  return best?.option;
}

/** Levenshtein distance: option names are short, so the quadratic table is a few dozen cells. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The committed cookie would be larger than browsers keep (4096 bytes): the
 * browser would silently drop it and the session would be lost. Thrown by
 * `commit()` before any header is sent.
 *
 * @example
 * app.use((err, req, res, next) => {
 *   if (err instanceof CookieTooLargeError) console.error(`${err.cookieName}: ${err.size} of ${err.limit} bytes`);
 *   next(err);
 * });
 */
export class CookieTooLargeError extends SessionError {
  /** The name of the cookie that was refused. */
  readonly cookieName: string;
  /** Bytes of the whole `Set-Cookie` value that was refused. */
  readonly size: number;
  /** The most bytes a `Set-Cookie` value may have: 4096. */
  readonly limit: number;

  constructor(cookieName: string, size: number, limit: number) {
    super(
      "ERR_SESSION_COOKIE_TOO_LARGE",
      `The session cookie "${cookieName}" would be ${size} bytes, over the ${limit}-byte limit browsers keep. ` +
        "Store less in the session, or keep the data on the server with a server-side storage " +
        "(createMemorySessionStorage, createRedisSessionStorage, createPostgresSessionStorage) so the cookie carries only an id.",
    );
    this.cookieName = cookieName;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A session value cannot be stored as JSON without changing it (a function,
 * `undefined`, a `Date`, a class instance, `NaN`, a cycle...), or is too deep or too
 * large to store. Storages that keep JSON (cookie, Redis, PostgreSQL) throw it at commit.
 *
 * @example
 * req.session.set("lastSeen", new Date());   // a Date is not JSON
 * await req.session.commit();                // throws: error.key === "lastSeen"
 * req.session.set("lastSeen", new Date().toISOString()); // store this instead
 */
export class SessionValueNotSerializableError extends SessionError {
  /** The session key whose value was refused. */
  readonly key: string;
  /** Where inside the value, e.g. `user.createdAt`; equals `key` for the value itself. */
  readonly path: string;

  constructor(key: string, path: string, reason: string) {
    super(
      "ERR_SESSION_VALUE_NOT_SERIALIZABLE",
      `The session value at "${path}" cannot be stored: ${reason}. ` +
        "This storage keeps JSON values only (strings, finite numbers, booleans, null, arrays and plain objects); " +
        "convert it first (e.g. a Date to an ISO string), or use createMemorySessionStorage, which keeps any value.",
    );
    this.key = key;
    this.path = path;
  }
}

/**
 * The operations the middleware asks of a storage, named in storage errors.
 *
 * @example
 * if (err instanceof SessionStorageError && err.operation === "read") res.status(503);
 */
export type SessionStorageOperation = "read" | "write" | "destroy" | "regenerate" | "prune";

const pastTense: Record<SessionStorageOperation, string> = {
  read: "read",
  write: "written",
  destroy: "destroyed",
  regenerate: "regenerated",
  prune: "pruned",
};

/**
 * A session storage failed: its server is down, refused the command, or answered
 * something it should not have. The storage's own error is the `cause`. It reaches
 * Express's error handling (`next(err)`); the request never hangs.
 *
 * @example
 * app.use((err, req, res, next) => {
 *   if (err instanceof SessionStorageError) return res.status(503).send("Please try again in a moment.");
 *   next(err);
 * });
 */
export class SessionStorageError extends SessionError {
  /** What the middleware asked of the storage when it failed. */
  readonly operation: SessionStorageOperation;

  constructor(operation: SessionStorageOperation, message: string, options?: ErrorOptions & { code?: string }) {
    super(options?.code ?? "ERR_SESSION_STORAGE", message, options);
    this.operation = operation;
  }
}

/**
 * A storage call took longer than its bound (the middleware's `storageTimeout`, or a
 * server-side storage's own `timeout`). Raise the bound only if the storage is known
 * to be slow; a session read should take milliseconds.
 *
 * @example
 * app.use((err, req, res, next) => {
 *   if (err instanceof SessionStorageTimeoutError) console.error(`no answer in ${err.timeout} ms while ${err.operation}`);
 *   next(err);
 * });
 */
export class SessionStorageTimeoutError extends SessionStorageError {
  /** The bound that was exceeded, in milliseconds. */
  readonly timeout: number;

  constructor(operation: SessionStorageOperation, timeout: number, storageName = "the session storage") {
    super(
      operation,
      `The session${operation === "prune" ? "s" : ""} could not be ${pastTense[operation]}: ${storageName} did not answer within ${timeout} ms. ` +
        "Check that its server is up and reachable; raise the timeout only if it is known to be this slow.",
      { code: "ERR_SESSION_STORAGE_TIMEOUT" },
    );
    this.timeout = timeout;
  }
}

/**
 * `sessionOf(req)` was called on a request the session middleware has not seen.
 *
 * @example
 * const session = sessions({ storage });
 * app.get("/early", (req, res) => session.sessionOf(req)); // throws: mounted after this route
 * app.use(session);
 */
export class SessionNotLoadedError extends SessionError {
  constructor() {
    super(
      "ERR_SESSION_NOT_LOADED",
      "This request has no session: mount the middleware (`app.use(sessions({ storage }))`) before the routes that use it.",
    );
  }
}
