/**
 * What the two express-session variants share: the same options, only the store differs.
 *
 * express-session and connect-redis are loaded through `require` with the few types used
 * here, not through their type declarations: @types/express-session declares a global
 * `Express.SessionStore` type, which shadows the `SessionStore` that lib/middleware/sessions.ts
 * names inside its own `declare global { namespace Express { ... } }`, and the program
 * then fails with "Type 'SessionStore' is not generic" in lib/. (A library-side fix:
 * import that type there under another name.)
 */
import { createRequire } from "node:module";
import type { Request, RequestHandler } from "express";
import { benchSecret, sessionCookieName, sessionMaxAgeSeconds } from "../config.js";
import type { BenchSession, BenchUser, BenchVariant } from "../routes.js";

/** The options of express-session this benchmark sets. */
type ExpressSessionOptions = {
  store?: object;
  name: string;
  secret: string;
  resave: boolean;
  saveUninitialized: boolean;
  cookie: { secure: boolean; httpOnly: boolean; sameSite: "lax"; maxAge: number };
};

export const requirePeer = createRequire(import.meta.url);
const expressSession = requirePeer("express-session") as (options: ExpressSessionOptions) => RequestHandler;

type Fields = { counter?: number; user?: BenchUser };

// express-session sets `req.session` (an object with the session's fields and methods).
const sessionOf = (req: Request) => (req as unknown as { session: Fields }).session;

/** `store: undefined` is express-session's MemoryStore; `databaseStatements` counts what a database store sends. */
export function expressSessionVariant(store: object | undefined, close?: () => Promise<void>, databaseStatements?: () => number): BenchVariant {
  const middleware = expressSession({
    ...(store ? { store } : {}),
    name: sessionCookieName,
    secret: benchSecret,
    resave: false,
    saveUninitialized: false,
    cookie: { secure: false, httpOnly: true, sameSite: "lax", maxAge: sessionMaxAgeSeconds * 1000 },
  });
  return {
    mount(app) {
      app.use(middleware);
    },
    get(req): BenchSession | undefined {
      const { counter, user } = sessionOf(req);
      return user === undefined ? undefined : { counter: counter ?? 0, user };
    },
    set(req, _res, { counter, user }) {
      const fields = sessionOf(req);
      fields.counter = counter;
      fields.user = user;
    },
    ...(close ? { close } : {}),
    ...(databaseStatements ? { databaseStatements } : {}),
  };
}
