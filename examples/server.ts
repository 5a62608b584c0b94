// Runs the example app: `npm start`, or `npx tsx examples/server.ts`.
//   SESSION_SECRET   encrypts the session cookie (32+ characters); a random one is generated when unset
//   PORT             default 3000
//   HOST             default "localhost"; set e.g. HOST=0.0.0.0 inside a container
//   NODE_ENV         "production" marks the cookie Secure (HTTPS only)
//   SESSION_STORAGE  "cookie" (default: the whole session in the cookie) or "redis" (`npm run example:redis`)
//   REDIS_URL        with SESSION_STORAGE=redis; default redis://127.0.0.1:6379
//   REDIS_PREFIX     with SESSION_STORAGE=redis: the start of every session key; default "sess:"
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SessionConfigError } from "../lib/index.js";
import { createApp, type AppOptions } from "./app.js";
import { connectRedisStorage, type RedisStorageForApp } from "./redis-storage.js";

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

// Sessions in Redis are shared by every process started with the same SESSION_SECRET and REDIS_URL.
let redis: RedisStorageForApp | undefined;
const sessionStorage = process.env.SESSION_STORAGE ?? "cookie";
if (sessionStorage === "redis") {
  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  try {
    redis = await connectRedisStorage(redisUrl, process.env.REDIS_PREFIX || undefined);
  } catch (error) {
    console.error(`Cannot reach Redis at ${redisUrl} (${(error as Error).message}): start it, or set REDIS_URL.`);
    process.exit(1);
  }
} else if (sessionStorage !== "cookie") {
  console.error(`SESSION_STORAGE must be "cookie" or "redis", got ${JSON.stringify(sessionStorage)}.`);
  process.exit(1);
}
const storage: AppOptions["storage"] = redis?.storage;

let app: ReturnType<typeof createApp>;
try {
  app = createApp({ secret, secure, storage });
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
  console.log(`Example app listening on http://${host}:${actualPort} (sessions in ${redis ? "Redis" : "the cookie"}, cookie Secure: ${secure})`);
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
    // The Redis connection closes last: requests still running needed it.
    void (redis?.close() ?? Promise.resolve()).finally(() => process.exit(error ? 1 : 0));
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
