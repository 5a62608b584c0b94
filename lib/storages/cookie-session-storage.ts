import type { CookieOptions } from "../cookie/cookie-options.js";
import { refuseUnknownOptions, SessionConfigError } from "../errors.js";
import { assertSerializable, type Serializable } from "../serializable.js";
import type { Clock } from "../session-expiry.js";
import { emptySession, synchronousSessionMethods, type SessionStorage, type StoredSession } from "../session-storage.js";
import { withEncryptedCookies, type EncryptedCookieStorage } from "../with-encrypted-cookies.js";

/** The content's JSON as read or last written: comparing against it reveals values mutated in place. */
export type CookieSessionMetadata = { contentJson: string };

/**
 * Keeps the whole session in one encrypted cookie (compact JWE, AES-256-GCM): no
 * server state at all. The cookie must stay under 4096 bytes; larger sessions throw
 * `CookieTooLargeError` at commit, and belong in a server-side storage.
 *
 * @example
 * app.use(sessions({
 *   storage: createCookieSessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * }));
 */
export function createCookieSessionStorage(options: {
  cookie: CookieOptions;
  /** ms since the epoch; default `Date.now`. For tests that move time forward. */
  clock?: Clock;
}): EncryptedCookieStorage<Serializable, CookieSessionMetadata> {
  if (options === null || typeof options !== "object") {
    throw new SessionConfigError("options", "expected { cookie }, e.g. createCookieSessionStorage({ cookie: { name, secret } }).");
  }
  refuseUnknownOptions("", options, knownOptions);
  return withEncryptedCookies({ cookie: options.cookie, storage: jsonSessionStorage, clock: options.clock });
}

const knownOptions = new Set(["cookie", "clock"]);

/**
 * Alias of `createCookieSessionStorage`, the name on Remastered's sessions page.
 *
 * @example
 * const storage = CookieSessionStorage({ cookie: { name: "sid", secret } });
 */
export const CookieSessionStorage = createCookieSessionStorage;

const emptyContentJson = "{}";

/**
 * The session as plain text: the content as a JSON object, then, only when there are
 * flashes, a newline and their keys as a JSON array. JSON never contains a raw newline,
 * and keeping the content's JSON whole lets a read reuse it as the change detector.
 */
const jsonSessionStorage: SessionStorage<Serializable, CookieSessionMetadata> = {
  // Parsing and writing JSON need no waiting: the session is ready, and sealed, in the same tick.
  ...synchronousSessionMethods(readSession, writeSession),

  hasChanged(session, metadata) {
    return contentJsonOf(session) !== metadata.contentJson;
  },
};

function readSession(text: string | undefined): [StoredSession<Serializable>, CookieSessionMetadata] {
  const parsed = text ? parseSession(text) : undefined;
  if (!parsed) return [emptySession(), { contentJson: emptyContentJson }];
  return [parsed.session, { contentJson: parsed.contentJson }];
}

function writeSession(session: StoredSession<Serializable>, metadata: CookieSessionMetadata): string {
  for (const [key, value] of session.content) assertSerializable(key, value);
  const contentJson = contentJsonOf(session);
  metadata.contentJson = contentJson;
  return session.flashedKeys.size === 0 ? contentJson : `${contentJson}\n${JSON.stringify([...session.flashedKeys])}`;
}

/** The content as written into the cookie; hasChanged compares exactly this text, so both use it. */
function contentJsonOf(session: StoredSession<Serializable>): string {
  return JSON.stringify(Object.fromEntries(session.content));
}

function parseSession(text: string): { session: StoredSession<Serializable>; contentJson: string } | undefined {
  const newline = text.indexOf("\n");
  const contentJson = newline === -1 ? text : text.slice(0, newline);
  try {
    const content: unknown = JSON.parse(contentJson);
    const flashed: unknown = newline === -1 ? [] : JSON.parse(text.slice(newline + 1));
    if (content === null || typeof content !== "object" || Array.isArray(content) || !Array.isArray(flashed)) return undefined;
    const entries = new Map(Object.entries(content as Record<string, Serializable>));
    const flashedKeys = new Set(flashed.filter((key): key is string => typeof key === "string" && entries.has(key)));
    return { session: { content: entries, flashedKeys }, contentJson };
  } catch {
    return undefined;
  }
}
