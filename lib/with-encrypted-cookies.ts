import { resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from "./cookie/cookie-options.js";
import { createSessionCookieSerializer, maxCookieBytes, readCookieValues } from "./cookie/cookie-header.js";
import { couldBeSealedToken, createCookieCipher, type OpenedToken } from "./encryption/cookie-cipher.js";
import { CookieTooLargeError, refuseUnknownOptions, SessionConfigError } from "./errors.js";
import type { MaybePromise } from "./maybe-promise.js";
import { createSessionExpiry, type Clock } from "./session-expiry.js";
import {
  forgetSessionIn,
  readSessionFrom,
  regenerateIn,
  sessionGone,
  writeSessionTo,
  type RegeneratedSession,
  type SessionGone,
  type SessionLifetime,
  type SessionStorage,
  type SessionWithMetadata,
  type StoredSession,
} from "./session-storage.js";

/**
 * What `withEncryptedCookies` carries from reading to committing, around the wrapped storage's own metadata.
 *
 * @example
 * const storage = withEncryptedCookies({ cookie, storage: idStorage });
 * const [session, metadata] = await storage.fromHeader(req.headers.cookie);
 * metadata?.inner; // what idStorage.fromHeader returned: e.g. the session id
 */
export type EncryptedCookieMetadata<InnerMetadata> = {
  /** The wrapped storage's metadata. */
  inner: InnerMetadata;
  /** When the session started, in ms since the epoch: the absolute timeout counts from here. */
  createdAt: number;
  /** When the client's cookie expires; `undefined` while the client holds no live cookie for this session. */
  expiresAt: number | undefined;
  /** The token the client sent (or the last one sealed). */
  token: string | undefined;
  /** The wrapped storage's value inside `token`. */
  sealedValue: string | undefined;
  /** The cookie was sealed under a retired secret: commit re-encrypts it under the current one. */
  needsReseal: boolean;
};

/**
 * A storage behind one encrypted cookie, with its resolved cookie settings. Its header is
 * a whole `Set-Cookie` value, or `""` when there is nothing to send (the session was gone).
 *
 * @example
 * const storage: EncryptedCookieStorage<Serializable, string> = withEncryptedCookies({ cookie, storage: idStorage });
 * storage.cookie.name; // "sid"
 */
export interface EncryptedCookieStorage<Value, InnerMetadata> extends SessionStorage<Value, EncryptedCookieMetadata<InnerMetadata>> {
  /** The cookie settings, every default filled in. */
  readonly cookie: ResolvedCookieOptions;
  fromHeaderMaybeSync(header?: string): MaybePromise<SessionWithMetadata<Value, EncryptedCookieMetadata<InnerMetadata>>>;
  toHeader(session: StoredSession<Value>, metadata: EncryptedCookieMetadata<InnerMetadata>): Promise<string>;
  toHeaderMaybeSync(session: StoredSession<Value>, metadata: EncryptedCookieMetadata<InnerMetadata>): MaybePromise<string>;
  /** Ends the session: the wrapped storage forgets it, and the returned `Set-Cookie` deletes the cookie. */
  destroy(metadata: EncryptedCookieMetadata<InnerMetadata>): Promise<string>;
  /** Moves the session to a new id and a new cookie (the wrapped storage's `regenerate`, or write-then-forget). */
  regenerate(
    session: StoredSession<Value>,
    metadata: EncryptedCookieMetadata<InnerMetadata>,
  ): Promise<RegeneratedSession<EncryptedCookieMetadata<InnerMetadata>>>;
}

const knownOptions = new Set(["cookie", "storage", "clock"]);

/**
 * Wraps a storage whose own header is a plain string (a session id, some JSON)
 * so that on the wire it is one encrypted, expiring cookie.
 * The wrapped storage receives the decrypted string (or `undefined` when there is
 * no valid, unexpired cookie) and returns the string to seal, or `sessionGone`.
 * Both calls also receive the session's `lifetime` (`{ createdAt, expiresAt }`, ms
 * since the epoch), so that a server-side record can expire with its cookie.
 *
 * Cookie settings are checked here, at start-up; see `CookieOptions` for defaults.
 * `clock` (ms since the epoch, default `Date.now`) lets tests move time forward.
 *
 * @example
 * const sessionsById = new Map<string, StoredSession<unknown>>();
 * const storage = withEncryptedCookies({
 *   cookie: { name: "sid", secret: process.env.SESSION_SECRET! },
 *   storage: {
 *     async fromHeader(id) {
 *       const known = id === undefined ? undefined : sessionsById.get(id);
 *       // Never adopt an id the client chose: an unknown id gets a new random one.
 *       return known ? [known, id!] : [{ content: new Map(), flashedKeys: new Set() }, randomBytes(32).toString("base64url")];
 *     },
 *     async toHeader(session, id: string) {
 *       sessionsById.set(id, session);
 *       return id;
 *     },
 *     async destroy(id: string) {
 *       sessionsById.delete(id);
 *     },
 *   },
 * });
 */
export function withEncryptedCookies<Value, InnerMetadata = undefined>(options: {
  cookie: CookieOptions;
  storage: SessionStorage<Value, InnerMetadata>;
  clock?: Clock;
}): EncryptedCookieStorage<Value, InnerMetadata> {
  const { cookie, storage, clock } = validateOptions(options);
  const cookieOptions = resolveCookieOptions(cookie);
  const cipher = createCookieCipher(cookieOptions.secrets, cookieOptions.name);
  const expiry = createSessionExpiry(cookieOptions, clock);
  const serializer = createSessionCookieSerializer(cookieOptions);
  type Metadata = EncryptedCookieMetadata<InnerMetadata>;

  /** The envelope of an opened token, if it can be believed and has not expired: anything else reads as no cookie. */
  const liveCookieOf = (token: string, opened: OpenedToken | undefined): LiveCookie | undefined => {
    const envelope = opened && openEnvelope(opened.plaintext);
    if (!envelope || !expiry.isLive(envelope.createdAt, envelope.expiresAt)) return undefined;
    return { envelope, token, needsReseal: !opened.isSealedWithCurrentKey };
  };

  /**
   * The first live cookie among the values sent, in order. Synchronous while the cipher
   * answers from its cache; the fast path allocates no closure (it runs on every request).
   */
  const openFirstLiveCookie = (tokens: string[], from = 0): MaybePromise<LiveCookie | undefined> => {
    for (let index = from; index < tokens.length; index++) {
      const token = tokens[index]!;
      // readCookieValues kept only values of our shape: no need to check it again.
      const opened = cipher.openWellShaped(token);
      if (opened instanceof Promise) {
        return opened.then((result) => liveCookieOf(token, result) ?? openFirstLiveCookie(tokens, index + 1));
      }
      const live = liveCookieOf(token, opened);
      if (live) return live;
    }
    return undefined;
  };

  const withMetadata = (
    live: LiveCookie | undefined,
    [session, inner]: SessionWithMetadata<Value, InnerMetadata>,
  ): SessionWithMetadata<Value, Metadata> => [
    session,
    {
      inner: inner as InnerMetadata,
      createdAt: live?.envelope.createdAt ?? expiry.now(),
      expiresAt: live?.envelope.expiresAt,
      token: live?.token,
      sealedValue: live?.envelope.value,
      needsReseal: live?.needsReseal ?? false,
    },
  ];

  /** The wrapped storage's session for the cookie's value (or none): at once when it can answer at once. */
  const sessionFor = (live: LiveCookie | undefined) => {
    const lifetime = live && { createdAt: live.envelope.createdAt, expiresAt: live.envelope.expiresAt };
    const loaded = readSessionFrom(storage, live?.envelope.value, lifetime);
    return loaded instanceof Promise ? loaded.then((result) => withMetadata(live, result)) : withMetadata(live, loaded);
  };

  const fromHeaderMaybeSync = (header?: string) => {
    const live = openFirstLiveCookie(readCookieValues(header, cookieOptions.name, couldBeSealedToken));
    return live instanceof Promise ? live.then(sessionFor) : sessionFor(live);
  };

  /**
   * Whether this commit moves the session's expiry: when the client has no cookie yet, the
   * cookie must be re-sealed anyway, or renewal is due. A write that keeps the id leaves
   * the cookie as it is, and the wrapped storage's record expires with it.
   */
  const isRenewing = ({ createdAt, expiresAt, token, needsReseal }: Metadata): boolean =>
    token === undefined || expiresAt === undefined || needsReseal || expiry.isRenewalDue(createdAt, expiresAt);

  /** The Set-Cookie for the wrapped storage's `value`: the client's token again when nothing changed for it, else a new one. */
  const cookieFor = (value: string | SessionGone, metadata: Metadata, lifetime: SessionLifetime, renewing: boolean): string => {
    if (value === sessionGone) {
      // The client's cookie names a session that no longer exists: nothing to renew or re-send.
      Object.assign(metadata, { expiresAt: undefined, token: undefined, sealedValue: undefined, needsReseal: false });
      return "";
    }
    const { token, sealedValue } = metadata;
    if (!renewing && token !== undefined && value === sealedValue) {
      return serializer.cookie(token, lifetime.expiresAt, expiry.now());
    }
    // A new value (a cookie session's content) is a new token anyway: its expiry is renewed with it.
    const expiresAt = renewing ? lifetime.expiresAt : expiry.expiresAt(lifetime.createdAt);
    return sealCookie(value, { createdAt: lifetime.createdAt, expiresAt }, metadata);
  };

  /** Seals `value` with `lifetime` into a Set-Cookie and records the new token in `metadata`. */
  const sealCookie = (value: string, { createdAt, expiresAt }: SessionLifetime, metadata: Metadata): string => {
    const newToken = cipher.seal(sealEnvelope({ createdAt, expiresAt, value }));
    const header = serializer.cookie(newToken, expiresAt, expiry.now());
    if (header.length > maxCookieBytes) throw new CookieTooLargeError(cookieOptions.name, header.length, maxCookieBytes);
    Object.assign(metadata, { createdAt, expiresAt, token: newToken, sealedValue: value, needsReseal: false });
    return header;
  };

  const toHeaderMaybeSync = (session: StoredSession<Value>, metadata: Metadata): MaybePromise<string> => {
    const renewing = isRenewing(metadata);
    const { createdAt } = metadata;
    const lifetime = { createdAt, expiresAt: renewing ? expiry.expiresAt(createdAt) : metadata.expiresAt! };
    const value = writeSessionTo(storage, session, metadata.inner, lifetime);
    return value instanceof Promise
      ? value.then((resolved) => cookieFor(resolved, metadata, lifetime, renewing))
      : cookieFor(value, metadata, lifetime, renewing);
  };

  /** The lifetime of the client's cookie, if it holds a live one. */
  const currentLifetimeOf = ({ createdAt, expiresAt }: Metadata): SessionLifetime | undefined =>
    expiresAt === undefined ? undefined : { createdAt, expiresAt };

  return {
    cookie: cookieOptions,

    fromHeaderMaybeSync,

    async fromHeader(header) {
      return fromHeaderMaybeSync(header);
    },

    toHeaderMaybeSync,

    async toHeader(session, metadata) {
      return toHeaderMaybeSync(session, metadata);
    },

    needsCommit(metadata) {
      const { createdAt, expiresAt, needsReseal, inner } = metadata;
      return (
        needsReseal ||
        (expiresAt !== undefined && expiry.isRenewalDue(createdAt, expiresAt)) ||
        (storage.needsCommit?.(inner) ?? false)
      );
    },

    // Offered only when the wrapped storage can tell; otherwise the store compares snapshots.
    ...(storage.hasChanged && {
      hasChanged(session: StoredSession<Value>, metadata: Metadata) {
        return storage.hasChanged!(session, metadata.inner);
      },
    }),

    async destroy(metadata) {
      await forgetSessionIn(storage, metadata.inner, currentLifetimeOf(metadata));
      return serializer.deletion();
    },

    async regenerate(session, metadata) {
      // A new identity is a new session: the absolute timeout starts over.
      const createdAt = expiry.now();
      const lifetime = { createdAt, expiresAt: expiry.expiresAt(createdAt) };
      const moved = await regenerateIn(storage, session, metadata.inner, lifetime, currentLifetimeOf(metadata));
      const newMetadata: Metadata = {
        inner: moved.metadata,
        createdAt,
        expiresAt: undefined,
        token: undefined,
        sealedValue: undefined,
        needsReseal: false,
      };
      const header = moved.header === sessionGone ? "" : sealCookie(moved.header, lifetime, newMetadata);
      return { header, metadata: newMetadata };
    },
  };
}

function validateOptions<Options extends { cookie: CookieOptions; storage: { fromHeader: unknown; toHeader: unknown } }>(options: Options): Options {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { cookie, storage }, e.g. withEncryptedCookies({ cookie: { name, secret }, storage }).");
  }
  refuseUnknownOptions("", options, knownOptions);
  const { storage } = options;
  if (typeof storage?.fromHeader !== "function" || typeof storage.toHeader !== "function") {
    throw new SessionConfigError("storage", "expected a session storage with fromHeader() and toHeader() whose header is a plain string.");
  }
  return options;
}

/**
 * The plaintext inside the token: `createdAt.expiresAt.value`, times in ms since the
 * epoch written in base 36 (8 characters today instead of 13: every byte of a cookie
 * travels with every request).
 */
type Envelope = { createdAt: number; expiresAt: number; value: string };

/** A cookie that opened and has not expired. */
type LiveCookie = { envelope: Envelope; token: string; needsReseal: boolean };

function sealEnvelope({ createdAt, expiresAt, value }: Envelope): string {
  return `${createdAt.toString(36)}.${expiresAt.toString(36)}.${value}`;
}

function openEnvelope(plaintext: string): Envelope | undefined {
  const firstDot = plaintext.indexOf(".");
  const secondDot = plaintext.indexOf(".", firstDot + 1);
  const createdAt = parseTime(plaintext, 0, firstDot);
  const expiresAt = parseTime(plaintext, firstDot + 1, secondDot);
  if (Number.isNaN(createdAt) || Number.isNaN(expiresAt)) return undefined;
  return { createdAt, expiresAt, value: plaintext.slice(secondDot + 1) };
}

// 10 base-36 digits reach the year 115 000, and stay below Number.MAX_SAFE_INTEGER.
const maxTimeDigits = 10;

/** The base-36 number (digits and lower-case letters only) from `start` to `end`, or NaN. */
function parseTime(text: string, start: number, end: number): number {
  if (end - start < 1 || end - start > maxTimeDigits) return NaN;
  let time = 0;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    const digit = code >= 0x30 && code <= 0x39 ? code - 0x30 : code >= 0x61 && code <= 0x7a ? code - 0x61 + 10 : NaN;
    time = time * 36 + digit;
  }
  return time;
}
