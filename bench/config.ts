/** Settings every variant shares, so that each one does the same work. */

/** One secret for every variant (cookie encryption, signing, express-session's sid signature). */
export const benchSecret = "benchmark-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/** Every variant's session lives one hour, so that none of them expires mid-run and all set Max-Age. */
export const sessionMaxAgeSeconds = 3600;

/** The session cookie's name where the library lets us pick it. */
export const sessionCookieName = "sid";

/** The user id every benchmark session carries: a response without it had no valid session. */
export const benchUserId = 42;

/** The response header the read and write routes set to the session's user id. */
export const checkHeader = "x-session-user";
