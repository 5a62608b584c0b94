import type { ResolvedCookieOptions } from "./cookie/cookie-options.js";

/** Milliseconds since the epoch; injectable so expiry can be tested without waiting. */
export type Clock = () => number;

/**
 * The expiry rules of a session, in one place for every storage: an idle timeout
 * (`maxAge`, renewed by use), an absolute timeout (never renewed past), and a
 * renewal threshold so that an unchanged session is not re-sent on every response.
 */
export type SessionLifetime = {
  now(): number;
  /** When a session that started at `createdAt` expires if it is committed now. */
  expiresAt(createdAt: number): number;
  isExpired(createdAt: number, expiresAt: number): boolean;
  /** Whether an unchanged session should be committed now to push its expiry back. */
  isRenewalDue(createdAt: number, expiresAt: number): boolean;
};

export function createSessionLifetime(options: ResolvedCookieOptions, clock: Clock = Date.now): SessionLifetime {
  const idle = options.maxAge * 1000;
  const absolute = options.absoluteTimeout * 1000;
  // Inclusive: a client active exactly every renewThreshold seconds keeps its session.
  const renewBelow = options.renewThreshold * 1000;
  const tolerance = options.clockTolerance * 1000;

  const expiresAt = (createdAt: number) => Math.min(clock() + idle, createdAt + absolute);

  return {
    now: clock,
    expiresAt,
    isExpired(createdAt, expiry) {
      const now = clock();
      // The absolute bound is checked on its own too, so lowering absoluteTimeout applies to live sessions.
      return now >= expiry + tolerance || now >= createdAt + absolute + tolerance;
    },
    isRenewalDue(createdAt, expiry) {
      const remaining = expiry - clock();
      // Near the absolute timeout a renewal gains nothing: don't send a cookie for it.
      return remaining <= renewBelow && expiresAt(createdAt) > expiry + 1000;
    },
  };
}
