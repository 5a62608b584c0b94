import { resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from "./cookie/cookie-options.js";
import { maxCookieBytes, readCookie, serializeSessionCookie } from "./cookie/cookie-header.js";
import { createCookieCipher } from "./encryption/cookie-cipher.js";
import { CookieTooLargeError } from "./errors.js";
import type { SessionStorage } from "./session-storage.js";

/** What `withEncryptedCookies` carries from reading to committing, around the wrapped storage's own metadata. */
export type EncryptedCookieMetadata<InnerMetadata> = {
  /** The wrapped storage's metadata. */
  inner: InnerMetadata;
  /** When the session started, in ms since the epoch. */
  createdAt: number;
  /** The cookie was sealed under a retired secret: commit re-encrypts it under the current one. */
  needsReseal: boolean;
};

/** The resolved cookie settings, for storages built on `withEncryptedCookies`. */
export type EncryptedCookieStorage<Value, InnerMetadata> = SessionStorage<Value, EncryptedCookieMetadata<InnerMetadata>> & {
  readonly cookie: ResolvedCookieOptions;
};

/**
 * Wraps a storage whose own header is a plain string (a session id, some JSON)
 * so that on the wire it is one encrypted, expiring cookie: the seed's helper.
 * The wrapped storage receives the decrypted string (or `undefined` when there is
 * no valid, unexpired cookie) and returns the string to seal.
 *
 * Cookie settings are checked here, at start-up; see `CookieOptions` for defaults.
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
}: {
  cookie: CookieOptions;
  storage: SessionStorage<Value, InnerMetadata>;
}): EncryptedCookieStorage<Value, InnerMetadata> {
  const options = resolveCookieOptions(cookie);
  const cipher = createCookieCipher(options.secrets, options.name);
  const lifetime = options.maxAge * 1000;

  return {
    cookie: options,

    async fromHeader(header) {
      const token = readCookie(header, options.name);
      const opened = token === undefined ? undefined : await cipher.open(token);
      const envelope = opened && openEnvelope(opened.plaintext);
      // An expired cookie reads as no cookie, even if a client keeps sending it.
      const live = envelope && envelope.expiresAt > Date.now() ? envelope : undefined;
      const [session, inner] = await storage.fromHeader(live?.value);
      const metadata: EncryptedCookieMetadata<InnerMetadata> = {
        inner: inner as InnerMetadata,
        createdAt: live?.createdAt ?? Date.now(),
        needsReseal: live !== undefined && !opened?.isSealedWithCurrentKey,
      };
      return [session, metadata];
    },

    async toHeader(session, metadata) {
      const value = await storage.toHeader(session, metadata.inner);
      const expiresAt = Date.now() + lifetime;
      const token = await cipher.seal(sealEnvelope({ createdAt: metadata.createdAt, expiresAt, value }));
      const header = serializeSessionCookie(options, token, expiresAt);
      if (header.length > maxCookieBytes) throw new CookieTooLargeError(options.name, header.length, maxCookieBytes);
      metadata.needsReseal = false;
      return header;
    },

    needsCommit(metadata) {
      return metadata.needsReseal || (storage.needsCommit?.(metadata.inner) ?? false);
    },
  };
}

/** The plaintext inside the token: `createdAt.expiresAt.value`, times in ms since the epoch. */
type Envelope = { createdAt: number; expiresAt: number; value: string };

function sealEnvelope({ createdAt, expiresAt, value }: Envelope): string {
  return `${createdAt}.${expiresAt}.${value}`;
}

function openEnvelope(plaintext: string): Envelope | undefined {
  const match = /^(\d{1,15})\.(\d{1,15})\./.exec(plaintext);
  if (!match) return undefined;
  return { createdAt: Number(match[1]), expiresAt: Number(match[2]), value: plaintext.slice(match[0].length) };
}
