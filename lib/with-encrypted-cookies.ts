import { resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from "./cookie/cookie-options.js";
import {
  createSessionCookieSerializer,
  maxCookieBytes,
  readCookieValues,
} from "./cookie/cookie-header.js";
import { createCookieCipher, type OpenedToken } from "./encryption/cookie-cipher.js";
import { CookieTooLargeError } from "./errors.js";
import type { MaybePromise } from "./maybe-promise.js";
import { emptySession } from "./session-changes.js";
import { createSessionLifetime, type Clock } from "./session-lifetime.js";
import {
  readSessionFrom,
  writeSessionTo,
  type SessionStorage,
  type SessionWithMetadata,
  type StoredSession,
} from "./session-storage.js";

/** What `withEncryptedCookies` carries from reading to committing, around the wrapped storage's own metadata. */
export type EncryptedCookieMetadata<InnerMetadata> = {
  /** The wrapped storage's metadata. */
  inner: InnerMetadata;
  /** When the session started, in ms since the epoch: the absolute timeout counts from here. */
  createdAt: number;
  /** When the cookie the client sent expires; `undefined` for a session that has no cookie yet. */
  expiresAt: number | undefined;
  /** The token the client sent (or the last one sealed) and the wrapped storage's value inside it. */
  token: string | undefined;
  sealedValue: string | undefined;
  /** The cookie was sealed under a retired secret: commit re-encrypts it under the current one. */
  needsReseal: boolean;
};

/** A storage behind one encrypted cookie, with its resolved cookie settings. */
export type EncryptedCookieStorage<Value, InnerMetadata> = SessionStorage<Value, EncryptedCookieMetadata<InnerMetadata>> & {
  readonly cookie: ResolvedCookieOptions;
  fromHeaderMaybeSync(header?: string): MaybePromise<SessionWithMetadata<Value, EncryptedCookieMetadata<InnerMetadata>>>;
  toHeaderMaybeSync(session: StoredSession<Value>, metadata: EncryptedCookieMetadata<InnerMetadata>): MaybePromise<string>;
  /** Ends the session: the wrapped storage forgets it, and the returned `Set-Cookie` deletes the cookie. */
  destroy(metadata: EncryptedCookieMetadata<InnerMetadata>): Promise<string>;
};

/**
 * Wraps a storage whose own header is a plain string (a session id, some JSON)
 * so that on the wire it is one encrypted, expiring cookie: the seed's helper.
 * The wrapped storage receives the decrypted string (or `undefined` when there is
 * no valid, unexpired cookie) and returns the string to seal.
 *
 * Cookie settings are checked here, at start-up; see `CookieOptions` for defaults.
 * `clock` (ms since the epoch, default `Date.now`) lets tests move time forward.
 *
 * @example
 * const ids = new Map<string, StoredSession<unknown>>();
 * const storage = withEncryptedCookies({
 *   cookie: { name: "sid", secret: process.env.SESSION_SECRET! },
 *   storage: {
 *     async fromHeader(id) {
 *       const session = id ? ids.get(id) : undefined;
 *       return [session ?? { content: new Map(), flashedKeys: new Set() }, id ?? randomUUID()];
 *     },
 *     async toHeader(session, id: string) {
 *       ids.set(id, session);
 *       return id;
 *     },
 *   },
 * });
 */
export function withEncryptedCookies<Value, InnerMetadata = undefined>({
  cookie,
  storage,
  clock,
}: {
  cookie: CookieOptions;
  storage: SessionStorage<Value, InnerMetadata> & { destroy?(metadata: InnerMetadata): Promise<unknown> };
  clock?: Clock;
}): EncryptedCookieStorage<Value, InnerMetadata> {
  const options = resolveCookieOptions(cookie);
  const cipher = createCookieCipher(options.secrets, options.name);
  const lifetime = createSessionLifetime(options, clock);
  const serializer = createSessionCookieSerializer(options);

  /** The envelope of an opened token, unless it expired: an expired cookie reads as no cookie. */
  const liveCookieOf = (token: string, opened: OpenedToken | undefined): LiveCookie | undefined => {
    const envelope = opened && openEnvelope(opened.plaintext);
    if (!envelope || lifetime.isExpired(envelope.createdAt, envelope.expiresAt)) return undefined;
    return { envelope, token, needsReseal: !opened.isSealedWithCurrentKey };
  };

  /**
   * The first live cookie among the values sent, in order. Synchronous while the cipher
   * answers from its cache; the fast path allocates no closure (it runs on every request).
   */
  const openFirstLiveCookie = (tokens: string[], from = 0): MaybePromise<LiveCookie | undefined> => {
    for (let index = from; index < tokens.length; index++) {
      const token = tokens[index]!;
      const opened = cipher.open(token);
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
  ): SessionWithMetadata<Value, EncryptedCookieMetadata<InnerMetadata>> => [
    session,
    {
      inner: inner as InnerMetadata,
      createdAt: live?.envelope.createdAt ?? lifetime.now(),
      expiresAt: live?.envelope.expiresAt,
      token: live?.token,
      sealedValue: live?.envelope.value,
      needsReseal: live?.needsReseal ?? false,
    },
  ];

  /** The wrapped storage's session for the cookie's value (or none): at once when it can answer at once. */
  const sessionFor = (live: LiveCookie | undefined) => {
    const value = live?.envelope.value;
    const loaded = readSessionFrom(storage, value);
    return loaded instanceof Promise ? loaded.then((result) => withMetadata(live, result)) : withMetadata(live, loaded);
  };

  const fromHeaderMaybeSync = (header?: string) => {
    const live = openFirstLiveCookie(readCookieValues(header, options.name));
    return live instanceof Promise ? live.then(sessionFor) : sessionFor(live);
  };

  /** The Set-Cookie for the wrapped storage's `value`: the client's token again when nothing changed, else a new one. */
  const cookieFor = (value: string, metadata: EncryptedCookieMetadata<InnerMetadata>): string => {
    const { createdAt, token, sealedValue, expiresAt, needsReseal } = metadata;
    // A server-side storage's id is unchanged by most writes: the client's token still says
    // everything, so it is sent again as it is, with no new encryption, until renewal is due.
    if (token !== undefined && value === sealedValue && expiresAt !== undefined && !needsReseal && !lifetime.isRenewalDue(createdAt, expiresAt)) {
      return serializer.cookie(token, expiresAt, lifetime.now());
    }
    const newExpiresAt = lifetime.expiresAt(createdAt);
    const newToken = cipher.seal(sealEnvelope({ createdAt, expiresAt: newExpiresAt, value }));
    const header = serializer.cookie(newToken, newExpiresAt, lifetime.now());
    if (header.length > maxCookieBytes) throw new CookieTooLargeError(options.name, header.length, maxCookieBytes);
    Object.assign(metadata, { expiresAt: newExpiresAt, token: newToken, sealedValue: value, needsReseal: false });
    return header;
  };

  const toHeaderMaybeSync = (session: StoredSession<Value>, metadata: EncryptedCookieMetadata<InnerMetadata>) => {
    const value = writeSessionTo(storage, session, metadata.inner);
    return value instanceof Promise ? value.then((resolved) => cookieFor(resolved, metadata)) : cookieFor(value, metadata);
  };

  return {
    cookie: options,

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
        (expiresAt !== undefined && lifetime.isRenewalDue(createdAt, expiresAt)) ||
        (storage.needsCommit?.(inner) ?? false)
      );
    },

    // Offered only when the wrapped storage can tell; otherwise the store compares snapshots.
    ...(storage.hasChanged && {
      hasChanged(session: StoredSession<Value>, metadata: EncryptedCookieMetadata<InnerMetadata>) {
        return storage.hasChanged!(session, metadata.inner);
      },
    }),

    async destroy(metadata) {
      // A wrapped storage without destroy() forgets the session by storing it empty.
      if (storage.destroy) await storage.destroy(metadata.inner);
      else await storage.toHeader(emptySession(), metadata.inner);
      return serializer.deletion();
    },
  };
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
