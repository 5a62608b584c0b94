/**
 * A value now, or a promise of it later. The read path uses it so that a session
 * found without waiting (a cookie this process has seen, a session in memory) is
 * handed on in the same tick, with no promise and no closure allocated for it.
 *
 * @example
 * const found: MaybePromise<SessionWithMetadata<unknown, undefined>> = storage.fromHeaderMaybeSync!(header);
 * const [session] = found instanceof Promise ? await found : found;
 */
export type MaybePromise<T> = T | Promise<T>;
