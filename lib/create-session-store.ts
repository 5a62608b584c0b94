import { readRequestHeader, validateHeaderName, type RequestWithHeaders } from "./request-header.js";
import type { SessionStorage } from "./session-storage.js";
import { TrackedSessionStore, type SessionStore, type SessionStoreOptions } from "./session-store.js";
import { defaultStorageTimeout, validateTimeout } from "./storage-timeout.js";

/**
 * Returns the session of a request, loading it once per request object.
 *
 * @example
 * export const getSession: GetSession<Serializable> = createSessionStore(storage);
 * const session = await getSession(request);
 */
export type GetSession<Value> = (request: RequestWithHeaders) => Promise<SessionStore<Value>>;

/**
 * Binds a storage to the request header it reads (`createSessionStore` of Remastered's sessions API,
 * alias `getSessionStore`). The returned `getSession(request)` is memoised per
 * request object, so every caller in one request shares one session.
 *
 * @example
 * // app/session.ts
 * export const getSession = createSessionStore(
 *   createCookieSessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
 * );
 * // in a handler (Node request or Fetch Request)
 * const session = await getSession(request);
 */
export function createSessionStore<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  headerName = "cookie",
  options: SessionStoreOptions = {},
): GetSession<Value> {
  const header = validateHeaderName("headerName", headerName);
  const timeout = validateTimeout("storageTimeout", options.storageTimeout, defaultStorageTimeout);
  const sessionsByRequest = new WeakMap<object, Promise<TrackedSessionStore<Value, Metadata>>>();
  return function getSession(request) {
    let session = sessionsByRequest.get(request);
    if (!session) {
      session = (async () => TrackedSessionStore.openMaybeSync(storage, readRequestHeader(request, header), timeout))();
      // A failed load is not cached: the next call tries again.
      session.catch(() => sessionsByRequest.delete(request));
      sessionsByRequest.set(request, session);
    }
    return session;
  };
}

/**
 * Alias of `createSessionStore`, the name on Remastered's sessions page.
 *
 * @example
 * export const getSession = getSessionStore(CookieSessionStorage({ cookie: { name: "sid", secret } }));
 */
export const getSessionStore = createSessionStore;
