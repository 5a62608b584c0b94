import type { ResolvedCookieOptions } from "./cookie/cookie-options.js";

/**
 * Milliseconds since the epoch; injectable so expiry can be tested without waiting.
 *
 * @example
 * let now = Date.now();
 * const storage = createMemorySessionStorage({ cookie, clock: () => now });
 * now += 3600_000; // an hour later: the idle timeout has passed
 */
export type Clock = () => number;

/**
 * Times this far in the future (or `clockTolerance`, if larger) are still believed: servers
 * sharing sessions never agree to the millisecond, and a session sealed by one a little
 * ahead must not log its user out on the next.
 */
export const futureAllowanceMs = 5_000;

/**
 * The expiry rules of a session, in one place for every storage: an idle timeout
 * (`maxAge`, renewed by use), an absolute timeout (never renewed past), and a
 * renewal threshold so that an unchanged session is not re-sent on every response.
 */
export type SessionExpiry = {
  now(): number;
  /** When a session that started at `createdAt` expires if it is renewed now. */
  expiresAt(createdAt: number): number;
  isExpired(createdAt: number, expiresAt: number): boolean;
  /** The moment a session with this lifetime expires (`isExpired` turns true), `clockTolerance` included. */
  endsAt(createdAt: number, expiresAt: number): number;
  /**
   * Whether a lifetime read from a client can be believed and has not expired: not
   * expired, not started in the future, and not promising more idle time than `maxAge`
   * (so lowering `maxAge` or `absoluteTimeout` applies to sessions already issued).
   */
  isLive(createdAt: number, expiresAt: number): boolean;
  /** Whether an unchanged session should be committed now to push its expiry back. */
  isRenewalDue(createdAt: number, expiresAt: number): boolean;
};

export function createSessionExpiry(options: ResolvedCookieOptions, clock: Clock = Date.now): SessionExpiry {
  const idle = options.maxAge * 1000;
  const absolute = options.absoluteTimeout * 1000;
  // Inclusive: a client active exactly every renewThreshold seconds keeps its session.
  const renewBelow = options.renewThreshold * 1000;
  const tolerance = options.clockTolerance * 1000;
  const futureAllowance = Math.max(tolerance, futureAllowanceMs);

  const expiresAt = (createdAt: number) => Math.min(clock() + idle, createdAt + absolute);
  // The absolute bound is checked on its own too, so lowering absoluteTimeout applies to live sessions.
  const endsAt = (createdAt: number, expiry: number) => Math.min(expiry, createdAt + absolute) + tolerance;
  const isExpiredAt = (now: number, createdAt: number, expiry: number) => now >= endsAt(createdAt, expiry);

  return {
    now: clock,
    expiresAt,
    isExpired(createdAt, expiry) {
      return isExpiredAt(clock(), createdAt, expiry);
    },
    endsAt,
    isLive(createdAt, expiry) {
      const now = clock();
      return (
        !isExpiredAt(now, createdAt, expiry) &&
        createdAt <= now + futureAllowance &&
        expiry - now <= idle + futureAllowance &&
        createdAt <= expiry
      );
    },
    isRenewalDue(createdAt, expiry) {
      const remaining = expiry - clock();
      // Near the absolute timeout a renewal gains nothing: don't send a cookie for it.
      return remaining <= renewBelow && expiresAt(createdAt) > expiry + 1000;
    },
  };
}
