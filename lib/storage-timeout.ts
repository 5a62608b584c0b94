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

/**
 * `run(signal)`, or a `SessionStorageTimeoutError` once `timeout` ms have passed without its
 * answer; `signal` is aborted at that moment, so that the call can stop (cancel a statement,
 * drop a queued command) and undo a step it can no longer finish.
 */
export function abortableWithinTimeout<T>(
  run: (signal: AbortSignal) => Promise<T>,
  timeout: number,
  operation: SessionStorageOperation,
  storageName?: string,
): Promise<T> {
  const controller = new AbortController();
  if (timeout === Infinity) return run(controller.signal);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new SessionStorageTimeoutError(operation, timeout, storageName);
      reject(error);
      controller.abort(error);
    }, timeout);
    timer.unref();
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      outcome();
    };
    let running: Promise<T>;
    try {
      running = run(controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
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
