export type { Serializable } from "./serializable.js";
export {
  sessionGone,
  type RegeneratedSession,
  type SessionGone,
  type SessionLifetime,
  type SessionStorage,
  type SessionWithMetadata,
  type StoredSession,
  type ValueOf,
} from "./session-storage.js";
export {
  applyChanges,
  hasChangedSince,
  hasNoChanges,
  sessionChangesSince,
  sessionFromSnapshot,
  type SessionChanges,
  type SessionSnapshot,
} from "./session-changes.js";
export type { MaybePromise } from "./maybe-promise.js";
export { intoSessionStore, type SessionStore, type SessionRecord, type SessionStoreOptions } from "./session-store.js";
export { createSessionStore, getSessionStore, type GetSession } from "./create-session-store.js";
export type { RequestWithHeaders } from "./request-header.js";
export type { CookieOptions, ResolvedCookieOptions } from "./cookie/cookie-options.js";
export {
  withEncryptedCookies,
  type EncryptedCookieMetadata,
  type EncryptedCookieStorage,
} from "./with-encrypted-cookies.js";
export { createCookieSessionStorage, CookieSessionStorage } from "./storages/cookie-session-storage.js";
export {
  createMemorySessionStorage,
  MemorySessionStorage,
  type MemorySessionStorageOptions,
  type MemorySessionMetadata,
} from "./storages/memory-session-storage.js";
export {
  createRedisSessionStorage,
  RedisSessionStorage,
  type RedisSessionStorageOptions,
} from "./storages/redis-session-storage.js";
export type { RedisSessionClient, IoredisStyleClient, NodeRedisStyleClient } from "./storages/redis/redis-client.js";
export {
  createPostgresSessionStorage,
  PostgresSessionStorage,
  type PostgresSessionStorageOptions,
  type PostgresPool,
  type PostgresPoolClient,
} from "./storages/postgres-session-storage.js";
export type { Clock } from "./session-expiry.js";
export {
  sessions,
  type RemasteredSessionRequest,
  type SessionMiddleware,
  type SessionsOptions,
  type SessionStorageFor,
} from "./middleware/sessions.js";
export {
  SessionError,
  SessionConfigError,
  CookieTooLargeError,
  SessionValueNotSerializableError,
  SessionNotLoadedError,
  SessionStorageError,
  SessionStorageTimeoutError,
  type SessionStorageOperation,
} from "./errors.js";
