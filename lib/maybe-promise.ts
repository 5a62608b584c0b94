/**
 * A value now, or a promise of it later. The read path uses it so that a session
 * found without waiting (a cookie this process has seen, a session in memory) is
 * handed on in the same tick: one promise hop before `next()` measurably slows a
 * small request (see issue 4's note), and most requests need none.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Runs `next` on `value` at once when it is there, or when the promise settles.
 * A synchronous throw in `next` stays synchronous: callers catch it as such.
 */
export function thenMaybe<T, Result>(value: MaybePromise<T>, next: (value: T) => MaybePromise<Result>): MaybePromise<Result> {
  return value instanceof Promise ? value.then(next) : next(value);
}
