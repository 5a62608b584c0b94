/**
 * The variants, in table order. Each loads its module only in the child that runs it.
 * Ours is the built package (`dist/`, what users run; `npm run bench` builds it first):
 * through tsx's loader our TypeScript would carry helpers the peers' plain JS does not.
 *
 * A storage of ours joins the benchmark in one line: `ours("name", (lib, cookie) => storage)`.
 */
import type { CookieOptions } from "../../dist/index.js";
import type { VariantContext, VariantFactory } from "../routes.js";
import type { OurStorage } from "./remastered.js";

export type VariantEntry = {
  name: string;
  load: () => Promise<VariantFactory>;
};

type Library = typeof import("../../dist/index.js");

/** A variant of ours: the `sessions()` middleware over the storage `makeStorage` returns. */
function ours(name: string, makeStorage: (lib: Library, cookie: CookieOptions, context: VariantContext) => OurStorage | Promise<OurStorage>): VariantEntry {
  return {
    name,
    async load() {
      const [lib, { remastered }] = await Promise.all([import("../../dist/index.js"), import("./remastered.js")]);
      return remastered((cookie, context) => makeStorage(lib, cookie, context));
    },
  };
}

export const variants: VariantEntry[] = [
  { name: "bare", load: async () => (await import("./bare.js")).bare },
  ours("remastered-cookie", (lib, cookie) => lib.createCookieSessionStorage({ cookie })),
  ours("remastered-memory", (lib, cookie) => lib.createMemorySessionStorage({ cookie })),
  ours("remastered-postgres", async (lib, cookie, { runId }) =>
    (await import("./postgres.js")).onBenchDatabase(runId, (pool, tableName) => lib.createPostgresSessionStorage({ pool, cookie, tableName, createTable: true })),
  ),
  { name: "express-session-memory", load: async () => (await import("./express-session-memory.js")).expressSessionMemory },
  { name: "express-session-redis", load: async () => (await import("./express-session-redis.js")).expressSessionRedis },
  { name: "express-session-postgres", load: async () => (await import("./express-session-postgres.js")).expressSessionPostgres },
  { name: "cookie-session", load: async () => (await import("./cookie-session.js")).cookieSessionVariant },
  { name: "iron-session", load: async () => (await import("./iron-session.js")).ironSession },
];

/** The variant the ratios are taken against. */
export const baselineVariant = "bare";
