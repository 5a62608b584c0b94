// The example app: a visit counter, a login form that flashes "Welcome back, NAME"
// across a redirect, and logout; /status answers the same session as JSON, for a script or
// an API client. By default sessions live entirely in one encrypted cookie.
// Server-rendered HTML, no template engine: every value from the user goes through escapeHtml().
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { createCookieSessionStorage, sessions, type CookieOptions, type SessionStorage } from "../lib/index.js";

/** What this app keeps in the session: typed once here, no declaration merging. */
type SessionData = { user: { name: string }; visits: number };
/** One-time values, shown on the page a redirect leads to. */
type FlashData = { message: string };

/** Where the sessions live, in words, for the page that explains what the visitor sees. */
export type StorageDescription = {
  /** e.g. "the encrypted cookie itself", "Redis at 127.0.0.1:6379". */
  where: string;
  /** The session is on the server and the cookie holds only its id: a logout ends every copy of the cookie. */
  serverSide: boolean;
};

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
  /** What the page tells the visitor about `storage`. Default: the cookie storage's description (when `storage` is not given). */
  storageDescription?: StorageDescription;
};

export const maxNameLength = 40;

/** The cookie's lifetime, spelled out because the page tells the visitor about it. */
const idleTimeoutSeconds = 60 * 60; // renewed while the visitor is active
const absoluteTimeoutSeconds = 12 * 60 * 60; // however active, a session ends after this

/** What the page says when the whole session is in the cookie (the default storage). */
export const cookieStorageDescription: StorageDescription = { where: "the encrypted cookie itself", serverSide: false };

// Only this app's own files: an inline script or style never runs, even if some escaping were missed.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function createApp({
  secret = randomBytes(32).toString("base64url"),
  secure,
  storage,
  storageDescription = storage ? undefined : cookieStorageDescription,
}: AppOptions = {}): Express {
  const cookie: CookieOptions = { name: "sid", secret, secure, maxAge: idleTimeoutSeconds, absoluteTimeout: absoluteTimeoutSeconds };
  const sessionStorage = storage ? storage(cookie) : createCookieSessionStorage({ cookie });
  const session = sessions<SessionData, FlashData>({ storage: sessionStorage });

  const app = express();
  app.disable("x-powered-by");
  app.use((_req, res, next) => {
    res.set("Content-Security-Policy", contentSecurityPolicy);
    next();
  });
  app.use(refuseFormsFromOtherSites);
  app.use(express.urlencoded({ extended: false }));
  app.use(session);

  // The stylesheet and the icon come after the session middleware on purpose: a request that
  // never reads the session leaves it (and a flash waiting for the next page) as it was.
  app.get("/style.css", (_req, res) => res.sendFile(fileURLToPath(new URL("style.css", import.meta.url))));
  app.get("/favicon.svg", (_req, res) => res.sendFile(fileURLToPath(new URL("favicon.svg", import.meta.url))));

  app.get("/", (req, res) => {
    const s = session.sessionOf(req);
    const visits = (s.get("visits") ?? 0) + 1;
    s.set("visits", visits);
    // Reading the flash marks it as shown; the middleware drops it when this response goes out.
    const message = s.get("message");
    const user = s.get("user");
    sendPage(res, { visits, message, user, storageDescription });
  });

  // What a script on the page or an API client would poll: it reads the session but not the
  // flash, so the flash stays for the page.
  app.get("/status", (req, res) => {
    const s = session.sessionOf(req);
    res.set("Cache-Control", "no-store");
    res.json({ signedIn: s.get("user") !== undefined, visits: s.get("visits") ?? 0 });
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

/**
 * Forms post here only from this app's own pages. SameSite=Lax keeps the cookie off another
 * site's POST, but the browser still takes the cookie in the answer: that site could sign the
 * visitor out, or in as someone else (login CSRF). Browsers say where a request comes from in
 * Sec-Fetch-Site; clients that do not send it (curl, scripts) are not browsers on another site.
 */
function refuseFormsFromOtherSites(req: Request, res: Response, next: NextFunction): void {
  const from = req.get("sec-fetch-site");
  if (req.method !== "POST" || from === undefined || from === "same-origin" || from === "none") return next();
  res.status(403).type("text").send("This form can only be sent from this site's own pages.");
}

type PageContent = {
  visits: number;
  message: string | undefined;
  user: { name: string } | undefined;
  storageDescription: StorageDescription | undefined;
};

function sendPage(res: Response, { visits, message, user, storageDescription }: PageContent): void {
  const flash = message === undefined ? "" : `<p class="flash" role="status">${escapeHtml(message)}</p>`;
  const account = user
    ? `<p class="signed-in">Signed in as <strong>${escapeHtml(user.name)}</strong></p>
      <form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : `<form method="post" action="/login" class="login">
        <label for="name">Your name</label>
        <input id="name" name="name" maxlength="${maxNameLength}" required autofocus autocomplete="username">
        <button type="submit">Log in</button>
      </form>`;
  // The page shows per-visitor data: no shared cache may keep it.
  res.set("Cache-Control", "no-store");
  res.type("html").send(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>remastered-sessions example</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/style.css">
  </head>
  <body>
    <main>
      <h1><img src="/favicon.svg" alt="" width="32" height="32"> remastered-sessions example</h1>
      ${flash}
      <p class="counter">You have viewed this page <span class="visits">${visits}</span> ${visits === 1 ? "time" : "times"}.</p>
      ${account}
      ${explanation(storageDescription)}
    </main>
  </body>
</html>
`);
}

/** Two sentences on what the visitor is seeing: the cookie, the counter and the flash; where the session lives. */
function explanation(storageDescription: StorageDescription | undefined): string {
  const seeing = `<p>Your browser keeps one cookie, <code>sid</code>, encrypted and out of reach of scripts on the page:
        it brings back your session, which counts your visits, remembers your name and keeps the message
        a login or logout leaves for the next page, shown once (reload and it is gone).</p>`;
  if (!storageDescription) return `<section class="about">${seeing}</section>`;
  const logout = storageDescription.serverSide
    ? "the cookie holds only its id, so logging out ends the session there, and a copy of the old cookie no longer signs anyone in."
    : `logging out deletes the cookie in this browser, but a copy taken before stays valid until its lifetime ends
        (${idleTimeoutSeconds / 60} minutes unused, ${absoluteTimeoutSeconds / 3600} hours at most).`;
  return `<section class="about">
      ${seeing}
      <p>The session lives in ${escapeHtml(storageDescription.where)}: ${logout}</p>
    </section>`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => htmlEntities[char]!);
}

const htmlEntities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
