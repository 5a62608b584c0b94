// Shared set-up for the Redis suites: clients with the settings the README recommends,
// a unique key prefix per test file (every key it creates is deleted afterwards), an
// Express app whose error handler shows the error's code, and ways to look at Redis as
// redis-cli would.
import { createHash, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { Cluster, Redis } from "ioredis";
import { createClient, createCluster } from "redis";
import { createCookieCipher } from "../lib/encryption/cookie-cipher.js";
import { sessions, type SessionStorage } from "../lib/index.js";
import request from "supertest";
import { cookiePair, testSecret } from "./fixtures.js";

/** The machine's Redis (see ../shared/SERVICES.md). */
export const redisPort = 6379;
export const redisUrl = `redis://127.0.0.1:${redisPort}`;

/** A prefix no other test run uses: `remastered-test:<name>:<pid>-<random>:`. */
export function uniquePrefix(name: string): string {
  return `remastered-test:${name}:${process.pid}-${randomBytes(4).toString("hex")}:`;
}

/**
 * A connected ioredis client with the README's settings: commands fail at once while Redis
 * is unreachable, so the client must be ready before the first one (`lazyConnect`, then `connect()`).
 */
export async function ioredisClient(port = redisPort): Promise<Redis> {
  const client = new Redis(port, "127.0.0.1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  client.on("error", () => undefined); // reconnection errors are expected in the failure tests
  await client.connect();
  return client;
}

/** A connected node-redis client with the README's settings. */
export async function nodeRedisClient(port = redisPort) {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: true });
  client.on("error", () => undefined); // reconnection errors are expected in the failure tests
  await client.connect();
  return client;
}

export async function ioredisCluster(ports: number[]): Promise<Cluster> {
  const cluster = new Cluster(
    ports.map((port) => ({ host: "127.0.0.1", port })),
    { lazyConnect: true, enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  cluster.on("error", () => undefined);
  await cluster.connect();
  return cluster;
}

export async function nodeRedisCluster(ports: number[]) {
  const cluster = createCluster({
    rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })),
    defaults: { disableOfflineQueue: true },
  });
  cluster.on("error", () => undefined);
  await cluster.connect();
  return cluster;
}

/** Every key under `prefix` on one Redis server, sorted (SCAN, as `redis-cli --scan --pattern` does). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys.sort();
}

/** Deletes every key under `prefix` on each of `servers` (the masters of a Cluster, or one Redis). */
export async function deleteKeysUnder(servers: Redis[], prefix: string): Promise<void> {
  for (const server of servers) {
    for (const key of await keysUnder(server, prefix)) await server.del(key);
  }
}

/** A command as MONITOR shows it: name (lower case) and arguments. */
export type SeenCommand = string[];

/**
 * Watches what clients send to a Redis server (MONITOR, on a connection of its own), leaving
 * out what Lua scripts run inside the server: `during(run)` resolves to the commands sent
 * while `run` ran, in order. For a server the test started: MONITOR slows a server down.
 *
 * @example
 * const watcher = await watchCommands(server.port);
 * expect(await watcher.during(() => request(app).get("/"))).toEqual([]);
 */
export async function watchCommands(port: number): Promise<{ during(run: () => Promise<unknown>): Promise<SeenCommand[]>; stop(): void }> {
  const marker = new Redis(port, "127.0.0.1");
  // monitor() opens a connection of its own; this one never connects.
  const monitor = await new Redis(port, "127.0.0.1", { lazyConnect: true }).monitor();
  let seen: SeenCommand[] = [];
  let waitingFor: { text: string; found(): void } | undefined;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source === "lua") return;
    const [name = "", ...rest] = args;
    if (waitingFor && name.toLowerCase() === "echo" && rest[0] === waitingFor.text) return waitingFor.found();
    seen.push([name.toLowerCase(), ...rest]);
  });
  // A marker echoed now reaches MONITOR after every command sent before it.
  const everythingSentSoFarSeen = async () => {
    const text = `marker-${Math.random()}`;
    const found = new Promise<void>((resolve) => (waitingFor = { text, found: resolve }));
    await marker.echo(text);
    await found;
  };
  return {
    async during(run) {
      // MONITOR reports asynchronously: commands sent before this run may still be on their way.
      await everythingSentSoFarSeen();
      seen = [];
      await run();
      await everythingSentSoFarSeen();
      return seen.filter(([name]) => name !== "info");
    },
    stop() {
      monitor.disconnect();
      marker.disconnect();
    },
  };
}

/** The names of `commands`, counted: `{ hgetall: 1, evalsha: 1 }`. */
export function countByName(commands: SeenCommand[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [name = ""] of commands) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** The session id inside a `Set-Cookie` (or `name=value`) of ours: the envelope is `createdAt.expiresAt.id`. */
export async function sessionIdIn(setCookie: string): Promise<string> {
  const token = setCookie.split(";")[0]!.split("=")[1]!;
  const opened = await createCookieCipher([testSecret], "sid").open(token);
  if (!opened) throw new Error("the cookie did not decrypt");
  return opened.plaintext.split(".").slice(2).join(".");
}

/** The Redis key of a session: the prefix and a SHA-256 of its id. */
export function redisKeyOf(prefix: string, sessionId: string): string {
  return prefix + createHash("sha256").update(sessionId).digest("base64url");
}

/** An error as the test apps answer it: status 500 and `{ code, message }`. */
export type ErrorAnswer = { code?: string; message: string };

/**
 * An Express app over `storage` with the routes `define` adds, and an error handler that
 * answers 500 with the error's `code` and message as JSON.
 */
export function redisApp(storage: SessionStorage<any, any>, define: (app: Express) => void): Express { // eslint-disable-line @typescript-eslint/no-explicit-any
  const app = express();
  app.use(sessions({ storage }));
  define(app);
  app.use((error: Error & { code?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    res.status(500).json({ code: error.code, message: error.message } satisfies ErrorAnswer);
  });
  return app;
}

/** Listens on a free loopback port; resolves to its base URL and a close function. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A promise and the function that resolves it: holds a request until the test lets it go on. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

/**
 * The concurrency story: one session, then 50 requests at once, each setting its own key.
 * Resolves to their statuses and to what the session holds afterwards, key number by number.
 */
export async function fiftyConcurrentKeys(storage: SessionStorage<any, any>): Promise<{ statuses: number[]; kept: Record<string, unknown> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = await listen(
    redisApp(storage, (app) => {
      app.post("/start", (req, res) => {
        req.session.set("started", true);
        res.sendStatus(204);
      });
      app.post("/keys/:n", (req, res) => {
        req.session.set(`key-${req.params.n}`, Number(req.params.n));
        res.sendStatus(204);
      });
      app.get("/keys", (req, res) => res.json(Object.fromEntries([...Array(50).keys()].map((n) => [n, req.session.get(`key-${n}`)]))));
    }),
  );
  try {
    const session = cookiePair(await request(server.url).post("/start"));
    const answers = await Promise.all([...Array(50).keys()].map((n) => request(server.url).post(`/keys/${n}`).set("Cookie", session)));
    const { body } = await request(server.url).get("/keys").set("Cookie", session);
    return { statuses: answers.map((answer) => answer.status), kept: body as Record<string, unknown> };
  } finally {
    await server.close();
  }
}

/** What `fiftyConcurrentKeys` must find: every request answered, every key kept. */
export const allFiftyKept = { statuses: Array(50).fill(204), kept: Object.fromEntries([...Array(50).keys()].map((n) => [n, n])) };
