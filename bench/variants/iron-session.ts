/** iron-session: the whole session sealed (encrypted and signed) into one cookie; `save()` writes it. */
import type { Request, Response } from "express";
import { getIronSession, type IronSession, type SessionOptions } from "iron-session";
import { benchSecret, sessionCookieName, sessionMaxAgeSeconds } from "../config.js";
import type { BenchSession, BenchUser, VariantFactory } from "../routes.js";

type Fields = { counter?: number; user?: BenchUser };

const options: SessionOptions = {
  password: benchSecret,
  cookieName: sessionCookieName,
  ttl: sessionMaxAgeSeconds,
  cookieOptions: { secure: false, httpOnly: true, sameSite: "lax", path: "/" },
};

export const ironSession: VariantFactory = () => {
  // The session a route opened, so that a write after a read unseals the cookie only once.
  const opened = new WeakMap<Request, IronSession<Fields>>();
  const open = async (req: Request, res: Response) => {
    let session = opened.get(req);
    if (!session) {
      session = await getIronSession<Fields>(req, res, options);
      opened.set(req, session);
    }
    return session;
  };
  return {
    mount() {},
    async get(req, res): Promise<BenchSession | undefined> {
      const session = await open(req, res);
      return session.user === undefined ? undefined : { counter: session.counter ?? 0, user: session.user };
    },
    async set(req, res, { counter, user }) {
      const session = await open(req, res);
      session.counter = counter;
      session.user = user;
      await session.save();
    },
  };
};
