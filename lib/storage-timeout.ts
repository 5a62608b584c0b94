import { SessionConfigError, SessionStorageTimeoutError, type SessionStorageOperation } from "./errors.js";

/**
 * How long a storage call may take, by default, before the request fails with
 * `SessionStorageTimeoutError`: a session is read and written in milliseconds, and a
 * storage that never answers must not hang the request. Server-side storages bound
 * their own calls more tightly (their `timeout` option).
 */
export const defaultStorageTimeout = 3_000;

/** `result`, or a `SessionStorageTimeoutError` once `timeout` ms have passed without it. */
export function withinTimeout<T>(result: Promise<T>, timeout: number, operation: SessionStorageOperation, storageName?: string): Promise<T> {
  if (timeout === Infinity) return result;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SessionStorageTimeoutError(operation, timeout, storageName)), timeout);
    // A storage call still pending at shutdown must not keep the process alive.
    timer.unref();
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Checks a timeout option at start-up: milliseconds, 1 or more, or `Infinity` for none. */
export function validateTimeout(option: string, timeout: unknown, defaultTimeout: number): number {
  if (timeout === undefined) return defaultTimeout;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 1) {
    throw new SessionConfigError(option, `expected a number of milliseconds, 1 or more (or Infinity for no bound; default ${defaultTimeout}); got ${JSON.stringify(timeout)}.`);
  }
  return timeout;
}
