// A migration from cookie-session in progress, as docs/migrating-from-cookie-session.md sets it up:
// cookie-session mounted first and typed by ./cookie-session.d.ts instead of @types/cookie-session;
// its session read through a cast, ours typed through sessionOf(req).
import express, { type Request } from "express";
import cookieSession from "cookie-session";
import { createMemorySessionStorage, sessions } from "remastered-sessions";

type OldSession = { user?: { name: string } } | null;
const oldSessionOf = (req: Request) => (req as unknown as { session: OldSession }).session;

const app = express();
app.use(cookieSession({ name: "session", keys: [process.env.OLD_SESSION_KEY!] }));
const session = sessions<{ user: { name: string } }, { message: string }>({
  storage: createMemorySessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
});
app.use(session);

app.use((req, _res, next) => {
  const old = oldSessionOf(req);
  if (old?.user && !session.sessionOf(req).has("user")) {
    session.sessionOf(req).regenerate();
    session.sessionOf(req).set("user", old.user); // typed: { name: string }
    (req as unknown as { session: OldSession }).session = null;
  }
  next();
});
app.get("/", (req, res) => {
  res.send(session.sessionOf(req).get("message") ?? "");
});
