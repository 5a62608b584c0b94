/** cookie-session: the whole session in a base64 JSON cookie, signed (not encrypted) with keygrip. */
import type { Request } from "express";
import cookieSession from "cookie-session";
import { benchSecret, sessionMaxAgeSeconds } from "../config.js";
import type { BenchSession, BenchUser, VariantFactory } from "../routes.js";

type Fields = { counter?: number; user?: BenchUser };

// cookie-session types `req.session` by declaration merging, as ours and express-session do.
const sessionOf = (req: Request) => (req as unknown as { session: Fields | null | undefined }).session;

export const cookieSessionVariant: VariantFactory = () => {
  const middleware = cookieSession({
    name: "session",
    keys: [benchSecret],
    maxAge: sessionMaxAgeSeconds * 1000,
    secure: false,
    httpOnly: true,
    sameSite: "lax",
  });
  return {
    mount(app) {
      app.use(middleware);
    },
    get(req): BenchSession | undefined {
      const fields = sessionOf(req);
      return fields?.user === undefined ? undefined : { counter: fields.counter ?? 0, user: fields.user };
    },
    set(req, _res, { counter, user }) {
      const fields = sessionOf(req);
      if (!fields) throw new Error("cookie-session did not load req.session");
      fields.counter = counter;
      fields.user = user;
    },
  };
};
