import type { CookieOptions } from "../cookie/cookie-options.js";
import { SessionValueNotSerializableError } from "../errors.js";
import { findNotSerializable, type Serializable } from "../serializable.js";
import { emptySession } from "../session-changes.js";
import type { Clock } from "../session-lifetime.js";
import type { SessionStorage, StoredSession } from "../session-storage.js";
import { withEncryptedCookies, type EncryptedCookieStorage } from "../with-encrypted-cookies.js";

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
export function createCookieSessionStorage({
  cookie,
  clock,
}: {
  cookie: CookieOptions;
  /** ms since the epoch; default `Date.now`. For tests that move time forward. */
  clock?: Clock;
}): EncryptedCookieStorage<Serializable, undefined> {
  return withEncryptedCookies({ cookie, storage: jsonSessionStorage, clock });
}

/** Alias of `createCookieSessionStorage`, the name used in the seed's examples. */
export const CookieSessionStorage = createCookieSessionStorage;

/** The session as JSON: `{"d": content, "f": flashed keys}` (`f` omitted when empty); short keys keep the cookie small. */
type SessionJson = { d: Record<string, Serializable>; f?: string[] };

const jsonSessionStorage: SessionStorage<Serializable> = {
  async fromHeader(json) {
    return [json ? parseSession(json) : emptySession()];
  },
  async toHeader(session) {
    for (const [key, value] of session.content) {
      const problem = findNotSerializable(value, key);
      if (problem) throw new SessionValueNotSerializableError(key, problem.path, problem.reason);
    }
    const json: SessionJson = { d: Object.fromEntries(session.content) };
    if (session.flashedKeys.size > 0) json.f = [...session.flashedKeys];
    return JSON.stringify(json);
  },
};

function parseSession(json: string): StoredSession<Serializable> {
  let parsed: Partial<SessionJson>;
  try {
    parsed = JSON.parse(json);
  } catch {
    return emptySession();
  }
  if (parsed === null || typeof parsed.d !== "object" || parsed.d === null) return emptySession();
  const content = new Map(Object.entries(parsed.d));
  const flashedKeys = new Set(Array.isArray(parsed.f) ? parsed.f.filter((key) => content.has(key)) : []);
  return { content, flashedKeys };
}
