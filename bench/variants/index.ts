/**
 * The variants, in table order. Each loads its module only in the child that runs it.
 * Ours is the built package (`dist/`, what users run; `npm run bench` builds it first):
 * through tsx's loader our TypeScript would carry helpers the peers' plain JS does not.
 *
 * A storage of ours joins the benchmark in one line: `ours("name", (lib, cookie) => storage)`
 * (or `(lib, cookie, { runId }) => Promise<{ storage, close }>` for one that holds a connection).
 */
import type { CookieOptions } from "../../dist/index.js";
import type { VariantContext, VariantFactory } from "../routes.js";
import type { StorageMaker } from "./remastered.js";
import type { BenchRedisClient } from "./remastered-redis.js";

export type VariantEntry = {
  name: string;
  load: () => Promise<VariantFactory>;
  /** Runs only when named in `--only` (a measurement beside the table, not a row of every run). */
  optional?: boolean;
  /** Keeps its sessions in the benchmark's Redis: the report counts its Redis commands per request. */
  usesRedis?: boolean;
};

type Library = typeof import("../../dist/index.js");

/**
 * A variant of ours: the `sessions()` middleware over the storage `makeStorage` returns (or
 * resolves to, with a `close` for when the server stops).
 */
function ours(
  name: string,
  makeStorage: (lib: Library, cookie: CookieOptions, context: VariantContext) => ReturnType<StorageMaker>,
  flags: Pick<VariantEntry, "optional" | "usesRedis"> = {},
): VariantEntry {
  return {
    name,
    ...flags,
    async load() {
      const [lib, { remastered }] = await Promise.all([import("../../dist/index.js"), import("./remastered.js")]);
      return remastered((cookie, context) => makeStorage(lib, cookie, context));
    },
  };
}

/** Ours on the benchmark's Redis (the one connect-redis uses), through the client named. */
function onRedis(client: BenchRedisClient) {
  return async (lib: Library, cookie: CookieOptions, context: VariantContext) =>
    (await import("./remastered-redis.js")).remasteredRedisStorage(lib, cookie, context, client);
}

export const variants: VariantEntry[] = [
  { name: "bare", load: async () => (await import("./bare.js")).bare },
  // Hand-written cookie middlewares, the ends of the scale for a cookie storage (see probes.ts).
  { name: "no-crypto-probe", load: async () => (await import("./probes.js")).noCryptoProbe },
  { name: "jwe-every-request-probe", load: async () => (await import("./probes.js")).jweEveryRequestProbe },
  ours("remastered-cookie", (lib, cookie) => lib.createCookieSessionStorage({ cookie })),
  ours("remastered-memory", (lib, cookie) => lib.createMemorySessionStorage({ cookie })),
  ours("remastered-redis", onRedis("node-redis"), { usesRedis: true }),
  ours("remastered-postgres", async (lib, cookie, { runId }) =>
    (await import("./postgres.js")).onBenchDatabase(runId, (pool, tableName) => lib.createPostgresSessionStorage({ pool, cookie, tableName, createTable: true })),
  ),
  { name: "express-session-memory", load: async () => (await import("./express-session-memory.js")).expressSessionMemory },
  { name: "express-session-redis", load: async () => (await import("./express-session-redis.js")).expressSessionRedis, usesRedis: true },
  { name: "express-session-postgres", load: async () => (await import("./express-session-postgres.js")).expressSessionPostgres },
  { name: "cookie-session", load: async () => (await import("./cookie-session.js")).cookieSessionVariant },
  { name: "iron-session", load: async () => (await import("./iron-session.js")).ironSession },
  // Beside the table (--only=...): the Redis storage through ioredis, and with node-redis's client-side cache.
  ours("remastered-redis-ioredis", onRedis("ioredis"), { usesRedis: true, optional: true }),
  ours("remastered-redis-client-side-cache", onRedis("node-redis-client-side-cache"), { usesRedis: true, optional: true }),
];

/** The variant the ratios are taken against. */
export const baselineVariant = "bare";
