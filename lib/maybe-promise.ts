/**
 * A value now, or a promise of it later. The read path uses it so that a session
 * found without waiting (a cookie this process has seen, a session in memory) is
 * handed on in the same tick, with no promise and no closure allocated for it.
 */
export type MaybePromise<T> = T | Promise<T>;
