/**
 * Ours: the `sessions()` middleware over any storage of the package. The list in
 * `./index.ts` picks the storage, one line each (cookie, memory, ...).
 */
import type { Request } from "express";
import { sessions, type CookieOptions, type SessionStorage, type SessionStore } from "../../dist/index.js";
import { benchSecret, sessionCookieName, sessionMaxAgeSeconds } from "../config.js";
import type { BenchSession, BenchUser, BenchVariant, VariantContext, VariantFactory } from "../routes.js";

/** The cookie settings every storage of ours gets: plain HTTP on loopback, so `secure: false`. */
export const benchCookie: CookieOptions = {
  name: sessionCookieName,
  secret: benchSecret,
  secure: false,
  maxAge: sessionMaxAgeSeconds,
};

type Data = { counter: number; user: BenchUser };

// `req.session` is typed by our middleware's declaration merging, but express-session and
// cookie-session merge another type into the same property: the benchmark reads it through
// this cast so all variants type-check in one program.
const sessionOf = (req: Request) => (req as unknown as { session: SessionStore<unknown, Data> }).session;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStorage = SessionStorage<any, any>;

/**
 * A storage, or, for one on a server (Redis, a database), a promise of it with what the
 * variant needs besides: `close` when the server stops, and its calls to the server so far.
 */
export type StorageMaker = (
  cookie: CookieOptions,
  context: VariantContext,
) => AnyStorage | Promise<{ storage: AnyStorage } & Pick<BenchVariant, "close" | "serverCalls">>;

/** `library`: the package's `sessions` from another build (`bench/in-process.ts --alt`, for A/B tests); default `dist/`. */
export function remastered(makeStorage: StorageMaker, library: { sessions: typeof sessions } = { sessions }): VariantFactory {
  return async (context) => {
    const made = await makeStorage(benchCookie, context);
    const { storage, ...extras } = "storage" in made ? made : { storage: made };
    const middleware = library.sessions<Data>({ storage });
    return {
      ...extras,
      mount(app) {
        app.use(middleware);
      },
      get(req): BenchSession | undefined {
        const session = sessionOf(req);
        const user = session.get("user");
        return user === undefined ? undefined : { counter: session.get("counter") ?? 0, user };
      },
      set(req, _res, { counter, user }) {
        const session = sessionOf(req);
        session.set("counter", counter);
        session.set("user", user);
      },
    };
  };
}
