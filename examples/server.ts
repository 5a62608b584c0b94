// Runs the example app: `npm start`, or `npx tsx examples/server.ts`.
//   SESSION_SECRET   encrypts the session cookie (32+ characters); a random one is generated when unset
//   PORT             default 3000
//   HOST             default "localhost"; set e.g. HOST=0.0.0.0 inside a container
//   NODE_ENV         "production" marks the cookie Secure (HTTPS only)
//   SESSION_STORAGE  "cookie" (default: the whole session in the cookie), "memory",
//                    "redis" (`npm run example:redis`) or "postgres" (`npm run example:postgres`)
//   REDIS_URL        with SESSION_STORAGE=redis; default redis://127.0.0.1:6379
//   REDIS_PREFIX     with SESSION_STORAGE=redis: the start of every session key; default "sess:"
//   DATABASE_URL     with SESSION_STORAGE=postgres; default postgres://<your user name>@127.0.0.1:5432/test
import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import type { AddressInfo } from "node:net";
import { createMemorySessionStorage, SessionConfigError } from "../lib/index.js";
import { cookieStorageDescription, createApp, type AppOptions } from "./app.js";
import { connectPostgresStorage } from "./postgres-storage.js";
import { connectRedisStorage } from "./redis-storage.js";

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

/** A storage on a server for the example app, its description, and how to close its connection. */
type ServerStorage = { storage: NonNullable<AppOptions["storage"]>; description: string; close(): Promise<void> };

// Sessions in Redis or PostgreSQL are shared by every process started with the same SESSION_SECRET and URL.
const sessionStorage = process.env.SESSION_STORAGE || "cookie";
let serverStorage: ServerStorage | undefined;
let storage: AppOptions["storage"];
if (sessionStorage === "redis") {
  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  serverStorage = await connectOrExit("Redis", redisUrl, () => connectRedisStorage(redisUrl, process.env.REDIS_PREFIX || undefined));
} else if (sessionStorage === "postgres") {
  const databaseUrl = process.env.DATABASE_URL || `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/test`;
  serverStorage = await connectOrExit("PostgreSQL", databaseUrl, () => connectPostgresStorage(databaseUrl));
} else if (sessionStorage === "memory") {
  storage = (cookie) => createMemorySessionStorage({ cookie });
} else if (sessionStorage !== "cookie") {
  console.error(`SESSION_STORAGE must be "cookie", "memory", "redis" or "postgres", got ${JSON.stringify(sessionStorage)}.`);
  process.exit(1);
}
storage ??= serverStorage?.storage;
const sessionsLiveIn = serverStorage?.description ?? (sessionStorage === "memory" ? "this process's memory" : "the cookie");
// The page tells the visitor where the session is, and so what a logout does to a copied cookie.
const storageDescription = sessionStorage === "cookie" ? cookieStorageDescription : { where: sessionsLiveIn, serverSide: true };

let app: ReturnType<typeof createApp>;
try {
  app = createApp({ secret, secure, storage, storageDescription });
} catch (error) {
  // A bad setting (e.g. a SESSION_SECRET shorter than 32 characters) stops the start with a clear message.
  if (!(error instanceof SessionConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
// Express 5 hands a listen error (a port in use) to this callback too, before "listening" ever happens.
const server = app.listen(port, host, (error?: NodeJS.ErrnoException) => {
  if (error) return failToListen(error);
  const { port: actualPort } = server.address() as AddressInfo;
  console.log(`Example app listening on http://${host}:${actualPort} (sessions in ${sessionsLiveIn}, cookie Secure: ${secure})`);
  console.log("Press Ctrl+C to stop.");
});
server.on("error", failToListen);

function failToListen(error: NodeJS.ErrnoException): never {
  if (error.code === "EADDRINUSE") {
    console.error(`Port ${port} is already in use (another server is running there). Pick another one: PORT=${port + 1} npm start`);
  } else if (error.code === "EACCES") {
    console.error(`Port ${port} needs more privileges than this process has. Pick one above 1023: PORT=3000 npm start`);
  } else {
    console.error(error);
  }
  process.exit(1);
}

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
  server.close((error) => {
    if (error) console.error(error);
    // The storage's connection closes last: requests still running needed it.
    void (serverStorage?.close() ?? Promise.resolve()).finally(() => process.exit(error ? 1 : 0));
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

/** Connects to a storage's server, or exits with a message that says what to check. */
async function connectOrExit(name: string, url: string, connect: () => Promise<ServerStorage>): Promise<ServerStorage> {
  try {
    return await connect();
  } catch (error) {
    const where = new URL(url);
    console.error(`Cannot reach ${name} at ${where.host} (${(error as Error).message}): start it, or point the URL elsewhere.`);
    process.exit(1);
  }
}
