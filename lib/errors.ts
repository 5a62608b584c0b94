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
 * option that differs only in case, or else listing them all.
 */
export function unknownOptionError(prefix: string, key: string, knownOptions: Iterable<string>): SessionConfigError {
  const known = [...knownOptions];
  const suggestion = known.find((option) => option.toLowerCase() === key.toLowerCase());
  return new SessionConfigError(
    `${prefix}${key}`,
    suggestion ? `unknown option; did you mean \`${suggestion}\`?` : `unknown option. Known options: ${known.join(", ")}.`,
  );
}

/**
 * The committed cookie would be larger than browsers keep (4096 bytes): the
 * browser would silently drop it and the session would be lost. Thrown by
 * `commit()` before any header is sent.
 */
export class CookieTooLargeError extends SessionError {
  readonly cookieName: string;
  /** Bytes of the whole `Set-Cookie` value that was refused. */
  readonly size: number;
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
 * `undefined`, a `Date`, a class instance, `NaN`, a cycle...).
 */
export class SessionValueNotSerializableError extends SessionError {
  /** The session key whose value was refused. */
  readonly key: string;
  /** Where inside the value, e.g. `user.createdAt`; equals `key` for the value itself. */
  readonly path: string;

  constructor(key: string, path: string, reason: string) {
    super(
      "ERR_SESSION_VALUE_NOT_SERIALIZABLE",
      `The session value at "${path}" cannot be stored in a cookie: ${reason}. ` +
        "Cookie sessions hold JSON values only (strings, finite numbers, booleans, null, arrays and plain objects); " +
        "convert it first (e.g. a Date to an ISO string), or use createMemorySessionStorage to keep any value.",
    );
    this.key = key;
    this.path = path;
  }
}

/** `sessionOf(req)` was called on a request the session middleware has not seen. */
export class SessionNotLoadedError extends SessionError {
  constructor() {
    super(
      "ERR_SESSION_NOT_LOADED",
      "This request has no session: mount the middleware (`app.use(sessions({ storage }))`) before the routes that use it.",
    );
  }
}
