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
  return timeout === Infinity ? result : abortableWithinTimeout(() => result, timeout, operation, storageName);
}

/**
 * Tells a storage call that the caller gave up on it (its timeout passed): the request has
 * already failed, so the call should stop and undo a step it can no longer finish. The
 * shape of an AbortSignal's essentials, without its cost: one is made per call to a
 * server, and an AbortController with a listener costs 5 µs on Node 20 (0.4 µs on 24).
 */
export class GiveUpSignal {
  #reason: unknown;
  #aborted = false;
  #listeners: (() => void)[] | undefined;

  /** Whether the caller gave up. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why: the `SessionStorageTimeoutError` the caller got. */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * Runs `listener` once the caller gives up (at once if it has). A signal lives as long as
   * its one call, so a listener is never removed: it checks whether its call is still running.
   */
  onAbort(listener: () => void): void {
    if (this.#aborted) listener();
    else (this.#listeners ??= []).push(listener);
  }

  /** @internal */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener();
  }
}

/**
 * `run(signal)`, or a `SessionStorageTimeoutError` once `timeout` ms have passed without its
 * answer; `signal` is aborted at that moment, so that the call can stop (cancel a statement,
 * drop a queued command) and undo a step it can no longer finish.
 */
export function abortableWithinTimeout<T>(
  run: (signal: GiveUpSignal) => Promise<T>,
  timeout: number,
  operation: SessionStorageOperation,
  storageName?: string,
): Promise<T> {
  const signal = new GiveUpSignal();
  if (timeout === Infinity) return run(signal);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new SessionStorageTimeoutError(operation, timeout, storageName);
      reject(error);
      signal.abort(error);
    }, timeout);
    timer.unref();
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      outcome();
    };
    let running: Promise<T>;
    try {
      running = run(signal);
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
