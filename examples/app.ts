// The example app: a visit counter, a login form that flashes "Welcome back, NAME"
// across a redirect, and logout. Sessions live entirely in one encrypted cookie.
// Server-rendered HTML, no template engine: every value from the user goes through escapeHtml().
import { randomBytes } from "node:crypto";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { createCookieSessionStorage, sessions, type CookieOptions, type SessionStorage } from "../lib/index.js";

/** What this app keeps in the session: typed once here, no declaration merging. */
type SessionData = { user: { name: string }; visits: number };
/** One-time values, shown on the page a redirect leads to. */
type FlashData = { message: string };

export type AppOptions = {
  /** Encrypts the session cookie; 32+ characters. Default: a random one (sessions end with the process). */
  secret?: string;
  /**
   * Mark the cookie `Secure` (HTTPS only). Default `true`, the library's default;
   * pass `false` to run over plain http (see examples/server.ts).
   */
  secure?: boolean;
  /**
   * Where sessions live, given the cookie settings. Default: the whole session in the
   * encrypted cookie (`createCookieSessionStorage`); server-side storages plug in here.
   */
  storage?: (cookie: CookieOptions) => SessionStorage<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

export const maxNameLength = 40;

export function createApp({
  secret = randomBytes(32).toString("base64url"),
  secure,
  storage = (cookie) => createCookieSessionStorage({ cookie }),
}: AppOptions = {}): Express {
  const session = sessions<SessionData, FlashData>({ storage: storage({ name: "sid", secret, secure }) });

  const app = express();
  app.disable("x-powered-by");
  app.use(express.urlencoded({ extended: false }));
  app.use(session);

  app.get("/", (req, res) => {
    const s = session.sessionOf(req);
    const visits = (s.get("visits") ?? 0) + 1;
    s.set("visits", visits);
    // Reading the flash marks it as shown; the middleware drops it when this response goes out.
    const message = s.get("message");
    const user = s.get("user");
    sendPage(res, { visits, message, user });
  });

  app.post("/login", (req, res) => {
    const s = session.sessionOf(req);
    // urlencoded gives a string, an array (name=a&name=b) or nothing at all (no body): accept only a string.
    const raw: unknown = req.body?.name;
    const name = typeof raw === "string" ? raw.trim() : "";
    if (name === "") {
      s.flash("message", "Please enter your name.");
    } else if ([...name].length > maxNameLength) {
      s.flash("message", `Your name can have at most ${maxNameLength} characters.`);
    } else {
      // A new session id at login: an id planted or seen before cannot ride into the signed-in session.
      s.regenerate();
      s.set("user", { name });
      s.flash("message", `Welcome back, ${name}`);
    }
    // Post/Redirect/Get: the session (with its flash) is saved before the 302 leaves.
    res.redirect("/");
  });

  app.post("/logout", (req, res) => {
    const s = session.sessionOf(req);
    // Ends the session (the visit counter too); the flash below starts a fresh one.
    s.destroy();
    s.flash("message", "Signed out");
    res.redirect("/");
  });

  // Errors (e.g. a storage failure) get a plain page; the details go to the log, not to the visitor.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    console.error(error);
    if (res.headersSent) return next(error);
    res.status(500).type("text").send("Something went wrong.");
  });

  return app;
}

function sendPage(
  res: Response,
  { visits, message, user }: { visits: number; message: string | undefined; user: { name: string } | undefined },
): void {
  const flash = message === undefined ? "" : `<p class="flash" role="status">${escapeHtml(message)}</p>`;
  const account = user
    ? `<p>Signed in as <strong>${escapeHtml(user.name)}</strong></p>
    <form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : `<form method="post" action="/login">
      <label>Your name <input name="name" maxlength="${maxNameLength}" required autofocus></label>
      <button type="submit">Log in</button>
    </form>`;
  // The page shows per-visitor data: no shared cache may keep it.
  res.set("Cache-Control", "no-store");
  res.type("html").send(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>remastered-sessions example</title>
  </head>
  <body>
    <h1>remastered-sessions example</h1>
    ${flash}
    <p>You have viewed this page <span class="visits">${visits}</span> ${visits === 1 ? "time" : "times"}.</p>
    ${account}
  </body>
</html>
`);
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => htmlEntities[char]!);
}

const htmlEntities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
