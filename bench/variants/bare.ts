/**
 * Bare Express, no sessions: the ceiling every other variant is compared with. The
 * "session" is one object in a closure, so the shared routes still read a counter,
 * build the user object and answer the same JSON; only the session library is missing.
 */
import type { BenchSession, VariantFactory } from "../routes.js";

export const bare: VariantFactory = () => {
  let state: BenchSession | undefined;
  return {
    mount() {},
    get: () => state,
    set(_req, _res, session) {
      state = session;
    },
  };
};
