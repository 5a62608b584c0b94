// Runs the example app: `npm start`, or `npx tsx examples/server.ts`.
// With --postgres (`npm run example:postgres`), sessions live in PostgreSQL (see postgres-sessions.ts).
//   SESSION_SECRET  encrypts the session cookie (32+ characters); a random one is generated when unset
//   PORT            default 3000
//   HOST            default "localhost"; set e.g. HOST=0.0.0.0 inside a container
//   NODE_ENV        "production" marks the cookie Secure (HTTPS only)
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SessionConfigError } from "../lib/index.js";
import { createApp } from "./app.js";
import { postgresSessions } from "./postgres-sessions.js";

const port = parsePort(process.env.PORT ?? "3000");
const host = process.env.HOST || "localhost";

let secret = process.env.SESSION_SECRET;
if (!secret) {
  secret = randomBytes(32).toString("base64url");
  const rule = "!".repeat(76);
  console.warn(
    [
      "",
      rule,
      "!!  WARNING: SESSION_SECRET is not set.",
      "!!",
      "!!  Using a random development secret made for this process only, so every",
      "!!  session (and login) is lost when the server restarts, and two server",
      "!!  processes cannot read each other's cookies.",
      "!!",
      "!!  Set a secret of 32+ characters that stays the same across restarts:",
      '!!    export SESSION_SECRET="$(openssl rand -base64 32)"',
      "!!    npm start",
      "!!  Keep it out of source control. Never run production without one.",
      rule,
      "",
    ].join("\n"),
  );
}

// Secure cookies travel over HTTPS only. Browsers make an exception for http://localhost
// and accept them there, but curl and other clients on plain http drop them, so the
// session would silently never come back. Development therefore runs with secure: false;
// production must be served over HTTPS (directly or behind a TLS-terminating proxy), and
// there the cookie is always Secure.
const secure = process.env.NODE_ENV === "production";

// Default: the whole session in the encrypted cookie.
const postgres = process.argv.includes("--postgres") ? postgresSessions() : undefined;

let app: ReturnType<typeof createApp>;
try {
  app = createApp({ secret, secure, storage: postgres?.storage });
} catch (error) {
  // A bad setting (e.g. a SESSION_SECRET shorter than 32 characters) stops the start with a clear message.
  if (!(error instanceof SessionConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const server = app.listen(port, host, () => {
  const { port: actualPort } = server.address() as AddressInfo;
  console.log(`Example app listening on http://${host}:${actualPort} (cookie Secure: ${secure})`);
  if (postgres) console.log(`Sessions in the ${postgres.description}`);
  console.log("Press Ctrl+C to stop.");
});
server.on("error", (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === "EADDRINUSE" ? `Port ${port} is already in use; try PORT=3001 npm start.` : error,
  );
  process.exit(1);
});

// Graceful shutdown: stop accepting connections, let requests in flight finish, then exit.
// A second signal, or requests still running after 10 s, end the process at once.
let shuttingDown = false;
function shutDown(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    console.log(`${signal} again: exiting now.`);
    process.exit(1);
  }
  shuttingDown = true;
  console.log(`${signal} received: closing the server...`);
  server.close(async (error) => {
    if (error) console.error(error);
    await postgres?.close();
    process.exit(error ? 1 : 0);
  });
  server.closeIdleConnections(); // keep-alive sockets with no request would otherwise hold close() open
  setTimeout(() => {
    console.error("Requests still running after 10 s: exiting anyway.");
    process.exit(1);
  }, 10_000).unref();
}
process.on("SIGINT", shutDown);
process.on("SIGTERM", shutDown);

function parsePort(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) {
    console.error(`PORT must be a number from 0 to 65535, got ${JSON.stringify(value)}.`);
    process.exit(1);
  }
  return parsed;
}
