// API and mobile clients: the session travels as a bearer token instead of a cookie.
// A client logs in, receives its token in the `X-Session-Token` response header, and sends it
// back as `Authorization: Bearer <token>`; logging out ends the token.
//
// Run it: `npm run example:api-tokens` starts the API on http://localhost:3001 (PORT to change it),
// and a small client in the same process walks through login, two calls and logout, printing
// each step. The server then stays up for your own curl calls (it prints them). Ctrl+C stops it.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { createMemorySessionStorage, sessions } from "../lib/index.js";

/** The response header that carries a new token; the client keeps the latest one it got. */
export const tokenHeader = "x-session-token";

type SessionData = { user: { name: string }; notes: string[] };

/**
 * The API. Sessions live in memory (a server-side storage), so a logout ends the token
 * everywhere at once; the token itself is the same encrypted value a cookie would carry.
 */
export function createTokenApi({ secret = randomBytes(32).toString("base64url") }: { secret?: string } = {}): Express {
  const session = sessions<SessionData>({
    storage: createMemorySessionStorage({ cookie: { name: "api", secret } }),
    headerName: "authorization", // read the token from `Authorization: Bearer <token>`
    responseHeaderName: tokenHeader, // send a new token in this header, with no cookie attributes
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(express.json());
  app.use("/api", session);

  app.post("/api/login", (req: Request, res: Response) => {
    const name = typeof req.body?.name === "string" ? req.body.name.trim() : "";
    if (!name) return void res.status(400).json({ error: 'Send a JSON body such as {"name": "Ada"}.' });
    // ...check the password here...
    session.sessionOf(req).regenerate(); // a new token at login: one issued before cannot ride along
    session.sessionOf(req).set("user", { name });
    res.status(201).json({ user: { name } });
  });

  /** Routes below need a logged-in client. */
  const requireUser = (req: Request, res: Response, next: NextFunction) => {
    if (!session.sessionOf(req).has("user")) return void res.status(401).json({ error: "Log in first: POST /api/login." });
    next();
  };

  app.get("/api/me", requireUser, (req, res) => {
    const current = session.sessionOf(req);
    res.json({ user: current.get("user"), notes: current.get("notes") ?? [] });
  });

  app.post("/api/notes", requireUser, (req, res) => {
    const text = typeof req.body?.text === "string" ? req.body.text : "";
    if (!text) return void res.status(400).json({ error: 'Send a JSON body such as {"text": "Buy milk"}.' });
    const notes = [...(session.sessionOf(req).get("notes") ?? []), text];
    session.sessionOf(req).set("notes", notes);
    res.status(201).json({ notes });
  });

  app.post("/api/logout", (req, res) => {
    session.sessionOf(req).destroy(); // the response's X-Session-Token is empty: the token is over
    res.json({ loggedOut: true });
  });

  return app;
}

/** One step of the client's walk-through: what it did, the status, and the body it got. */
export type ClientStep = { step: string; status: number; body: unknown };

/**
 * A client as a mobile app would write it, with `fetch`: it keeps the latest token it
 * received and sends it on every call.
 */
export async function runTokenClient(baseUrl: string, log: (step: ClientStep) => void = () => undefined): Promise<ClientStep[]> {
  let token: string | undefined;
  const steps: ClientStep[] = [];

  async function call(step: string, method: string, path: string, body?: object): Promise<void> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(new URL(path, baseUrl), { method, headers, body: body && JSON.stringify(body) });
    // A new token arrives at login and on renewal; an empty one means the session is over.
    const received = response.headers.get(tokenHeader);
    if (received !== null) token = received || undefined;
    const done = { step, status: response.status, body: await response.json() };
    steps.push(done);
    log(done);
  }

  await call("log in", "POST", "/api/login", { name: "Ada" });
  await call("add a note with the token", "POST", "/api/notes", { text: "Buy milk" });
  await call("read my session with the token", "GET", "/api/me");
  const tokenBeforeLogout = token;
  await call("log out", "POST", "/api/logout");
  token = tokenBeforeLogout; // as if a copy of the token had leaked: it no longer works
  await call("use the old token after logout", "GET", "/api/me");
  return steps;
}

// Run as a script (not when a test imports it).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3001);
  const server = createTokenApi({ secret: process.env.SESSION_SECRET }).listen(port, "localhost", async () => {
    const base = `http://localhost:${(server.address() as AddressInfo).port}`;
    console.log(`Token API listening on ${base}. A client walks through it:\n`);
    await runTokenClient(base, ({ step, status, body }) => console.log(`  ${step}: ${status} ${JSON.stringify(body)}`));
    console.log(`\nYour turn:
  curl -si -X POST ${base}/api/login -H 'content-type: application/json' -d '{"name":"Ada"}' | grep -i ${tokenHeader}
  curl -s ${base}/api/me -H "authorization: Bearer <the token>"
Ctrl+C stops the server.`);
  });
  process.on("SIGINT", () => server.close(() => process.exit(0)));
}
