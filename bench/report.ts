/** Turning the runs into medians, a Markdown report and the JSON file. */
import type { LoadResult, Probe } from "./load.js";
import type { ServerCounts } from "./routes.js";
import type { ServerCallCounts } from "./routes.js";
import type { AesGcmCost } from "./aes-gcm-cost.js";
import type { Workload } from "./workloads.js";

export type RunStatus = "valid" | "invalid" | "too-large";

/** Which variant, workload and node binary a result is about, and whether it counts. */
type ResultIdentity = {
  node: string;
  nodeVersion: string | undefined;
  workload: string;
  variant: string;
  status: RunStatus;
  reasons: string[];
};

/** One variant, one workload, one round, on one node binary. */
export type RunRecord = ResultIdentity & {
  round: number;
  probe?: Probe;
  load?: LoadResult;
  rssBytes?: number;
  /** The server's CPU time (user + system) per request under load, in µs. */
  cpuMicrosPerRequest?: number;
  server?: ServerCounts;
  /** Requests/s over bare Express's in the same round, workload and node. */
  ratio?: number;
  /** Variants on a server (Redis, a database): their calls to it per request under load, by kind, and their sum. */
  serverCalls?: ServerCallCounts;
  serverCallsPerRequest?: number;
};

/** A variant on a workload and a node, over all rounds (medians). */
export type Summary = ResultIdentity & {
  rounds: number;
  ratio?: number;
  /** The lowest and highest ratio over the valid rounds: a difference inside this spread is noise. */
  ratioMin?: number;
  ratioMax?: number;
  requestsPerSecond?: number;
  p50?: number;
  p99?: number;
  cookieBytes?: number;
  setCookieWriteBytes?: number;
  setCookieReadBytes?: number;
  rssMB?: number;
  cpuMicrosPerRequest?: number;
  serverCallsPerRequest?: number;
};

export type ReportMeta = {
  date: string;
  machine: { cpu: string; cores: number; memoryGB: number; os: string };
  /** The machine's 1-minute load average when the run started and ended: other work disturbs a run. */
  loadAverage: { start: number; end: number };
  harnessNode: string;
  /** Each server node binary, and what AES-GCM costs on it when the cookie storage and the no-crypto probe both ran. */
  servers: { node: string; nodeVersion: string | undefined; aesGcm?: AesGcmCost }[];
  settings: { rounds: number; duration: number; warmup: number; connections: number; smoke: boolean };
  versions: Record<string, string>;
  command: string;
};

export function median(values: number[]): number | undefined {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Fills in each run's ratio to bare Express of the same round, workload and node. */
export function addRatios(runs: RunRecord[], baseline: string): void {
  for (const run of runs) {
    const bare = runs.find(
      (other) =>
        other.variant === baseline && other.round === run.round && other.workload === run.workload && other.node === run.node,
    );
    if (run.status === "valid" && bare?.status === "valid" && bare.load && run.load && bare.load.requestsPerSecond > 0) {
      run.ratio = run.load.requestsPerSecond / bare.load.requestsPerSecond;
    }
  }
}

export function summarize(runs: RunRecord[], order: { nodes: string[]; workloads: string[]; variants: string[] }): Summary[] {
  const summaries: Summary[] = [];
  for (const node of order.nodes) {
    for (const workload of order.workloads) {
      for (const variant of order.variants) {
        const group = runs.filter((run) => run.node === node && run.workload === workload && run.variant === variant);
        if (group.length === 0) continue;
        const status: RunStatus = group.some((run) => run.status === "invalid")
          ? "invalid"
          : group.some((run) => run.status === "too-large")
            ? "too-large"
            : "valid";
        const valid = group.filter((run) => run.status === "valid");
        const pick = (get: (run: RunRecord) => number | undefined) =>
          median(valid.map(get).filter((value): value is number => value !== undefined));
        const pickAny = (get: (run: RunRecord) => number | undefined) =>
          median(group.map(get).filter((value): value is number => value !== undefined));
        summaries.push({
          node,
          nodeVersion: group.find((run) => run.nodeVersion)?.nodeVersion,
          workload,
          variant,
          status,
          reasons: [...new Set(group.flatMap((run) => run.reasons))],
          rounds: group.length,
          ...(status === "valid"
            ? {
                ratio: pick((run) => run.ratio),
                ...spread(valid.map((run) => run.ratio)),
                requestsPerSecond: pick((run) => run.load?.requestsPerSecond),
                p50: pick((run) => run.load?.p50),
                p99: pick((run) => run.load?.p99),
                cpuMicrosPerRequest: pick((run) => run.cpuMicrosPerRequest),
                serverCallsPerRequest: pick((run) => run.serverCallsPerRequest),
              }
            : {}),
          cookieBytes: pickAny((run) => run.probe?.cookieBytes),
          setCookieWriteBytes: pickAny((run) => run.probe?.setCookieWriteBytes),
          setCookieReadBytes: pickAny((run) => run.probe?.setCookieReadBytes),
          rssMB: pick((run) => (run.rssBytes === undefined ? undefined : run.rssBytes / 2 ** 20)),
        });
      }
    }
  }
  return summaries;
}

function spread(ratios: (number | undefined)[]): { ratioMin?: number; ratioMax?: number } {
  const known = ratios.filter((ratio): ratio is number => ratio !== undefined && Number.isFinite(ratio));
  return known.length === 0 ? {} : { ratioMin: Math.min(...known), ratioMax: Math.max(...known) };
}

/** The rounds' lowest–highest ratio; one round has no spread. */
function spreadCell(row: Summary): string {
  if (row.ratioMin === undefined || row.ratioMax === undefined || row.rounds < 2) return "—";
  return `${row.ratioMin.toFixed(2)}–${row.ratioMax.toFixed(2)}`;
}

/** The pair the "cost of cryptography" line compares: our cookie storage and the cookie middleware with no crypto. */
export const cookieStorageVariant = "remastered-cookie";
export const noCryptoCeilingVariant = "no-crypto-probe";

/**
 * The cookie storage's CPU per request over the no-crypto probe's, set against the AES-GCM
 * work it does on that workload: a write seals once (the token it re-reads is one it sealed,
 * found in its cache: no open); a read of such a token opens nothing.
 */
function cryptoCostLine(rows: Summary[], workload: Workload, aesGcm: AesGcmCost | undefined): string | undefined {
  const ours = rows.find((row) => row.variant === cookieStorageVariant)?.cpuMicrosPerRequest;
  const ceiling = rows.find((row) => row.variant === noCryptoCeilingVariant)?.cpuMicrosPerRequest;
  if (ours === undefined || ceiling === undefined || !aesGcm) return undefined;
  const writes = workload.cycle.filter((request) => request.method === "POST").length / workload.cycle.length;
  const allowance = writes * aesGcm.sealMicros;
  const over = ours - ceiling;
  const beyond = over - allowance;
  return (
    `**${cookieStorageVariant} − ${noCryptoCeilingVariant}: ${over >= 0 ? "+" : ""}${over.toFixed(1)} µs CPU per request.** ` +
    `The AES-GCM work it does here: ${writes === 0 ? "none (every token read was sealed or opened before by this process: cached)" : `${writes === 1 ? "one seal" : `${writes.toFixed(1)} seal per request`} of the ${aesGcm.plaintextBytes}-byte session, ${allowance.toFixed(1)} µs`} ` +
    `(\`bench/aes-gcm-cost.ts\` on this Node: seal ${aesGcm.sealMicros.toFixed(1)} µs, open ${aesGcm.openMicros.toFixed(1)} µs). ` +
    (beyond <= 0 ? "Within what the cryptography costs." : `${beyond.toFixed(1)} µs more than the cryptography costs.`)
  );
}

const fixed = (value: number | undefined, digits: number) => (value === undefined ? "—" : value.toFixed(digits));
const integer = (value: number | undefined) => (value === undefined ? "—" : String(Math.round(value)));

function setCookieCell(summary: Summary, workload: Workload): string {
  const hasRead = workload.cycle.some((request) => request.method === "GET");
  const hasWrite = workload.cycle.some((request) => request.method === "POST");
  if (hasRead && hasWrite) return `${integer(summary.setCookieWriteBytes)} / ${integer(summary.setCookieReadBytes)}`;
  return integer(hasWrite ? summary.setCookieWriteBytes : summary.setCookieReadBytes);
}

function cpuAboveBare(row: Summary, bare: Summary | undefined): string {
  if (row === bare || row.cpuMicrosPerRequest === undefined || bare?.cpuMicrosPerRequest === undefined) return "—";
  return `+${(row.cpuMicrosPerRequest - bare.cpuMicrosPerRequest).toFixed(1)}`;
}

function statusCell(summary: Summary): string {
  if (summary.status === "valid") return "yes";
  const label = summary.status === "too-large" ? "TOO LARGE" : "INVALID";
  const reason = summary.reasons[0]?.split("\n")[0]?.replace(/\|/g, "\\|").slice(0, 160);
  return reason ? `**${label}**: ${reason}` : `**${label}**`;
}

/** Ranked by ratio; INVALID and TOO LARGE rows come last, unranked, with no throughput shown. */
function rankRows(rows: Summary[]): Summary[] {
  const valid = rows.filter((row) => row.status === "valid").sort((a, b) => (b.ratio ?? -1) - (a.ratio ?? -1));
  return [...valid, ...rows.filter((row) => row.status !== "valid")];
}

export function nodeLabel(server: { node: string; nodeVersion: string | undefined }): string {
  return `Node ${server.nodeVersion ?? "?"}`;
}

export function renderMarkdown(options: {
  meta: ReportMeta;
  summaries: Summary[];
  workloads: Workload[];
  chartFile: string;
  baseline: string;
}): string {
  const { meta, summaries, workloads, chartFile, baseline } = options;
  const { settings } = meta;
  const lines: string[] = [];
  lines.push("# Session middleware benchmark", "");
  lines.push(
    `${meta.date} · ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGB} GB, ${meta.machine.os} · ` +
      `servers on ${meta.servers.map((server) => `${nodeLabel(server)} (\`${server.node}\`)`).join(" and ")} · ` +
      `load from autocannon ${meta.versions.autocannon ?? "?"} on Node ${meta.harnessNode} in a separate process · ` +
      `load average ${meta.loadAverage.start.toFixed(2)} at the start, ${meta.loadAverage.end.toFixed(2)} at the end`,
    "",
  );
  lines.push(
    `Each variant is an Express ${meta.versions.express ?? "?"} app in its own process on 127.0.0.1, loaded by ` +
      `${settings.connections} connections for ${settings.warmup} s of warm-up and ${settings.duration} s measured, ` +
      `${settings.rounds} round${settings.rounds === 1 ? "" : "s"} with every variant in each round (interleaved). ` +
      `**req/s ÷ bare** is the variant's requests per second over bare Express's in the same round ` +
      `(median over rounds), higher is better, and **rounds' spread** its lowest and highest over the rounds (a ` +
      `difference between two variants inside their spreads is noise, not a finding); p50/p99 are latencies of the measured responses; Cookie and ` +
      `Set-Cookie are bytes of the header values (all cookies added up); **CPU µs/req** is the server's CPU time ` +
      `(user + system) per request under load, warm-up included, and **CPU − bare** what the session library adds to it ` +
      `(less noisy than req/s on a shared machine); **server calls/req** is, for the variants on a server (Redis, ` +
      `PostgreSQL), the commands or statements their client sent per request under load (counted in the server process, ` +
      `warm-up included), each one a round trip; ` +
      `RSS is the server's resident memory after the run ` +
      `(it includes tsx's TypeScript loader, the same in every variant: compare it with bare's). ` +
      `Each connection carries its own session, and every measured request is checked to carry it: a variant with ` +
      `any request without a valid session is **INVALID** and not ranked; **TOO LARGE** means the session does not fit ` +
      `the ${4096}-byte cookie browsers keep (the library refused it, or sent a cookie browsers drop).`,
    "",
  );
  if (settings.smoke) lines.push("**Smoke run**: one short round, to check the harness; its numbers are not a measurement.", "");
  lines.push(
    `Versions: ${Object.entries(meta.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}.`,
    "",
  );
  lines.push(`![req/s relative to bare Express, per workload](${chartFile})`, "");

  for (const server of meta.servers) {
    for (const workload of workloads) {
      const rows = summaries.filter((summary) => summary.node === server.node && summary.workload === workload.name);
      if (rows.length === 0) continue;
      const bare = rows.find((row) => row.variant === baseline);
      const mixed = workload.cycle.some((request) => request.method === "GET") && workload.cycle.some((request) => request.method === "POST");
      lines.push(`## ${workload.name} · ${nodeLabel(server)}`, "");
      lines.push(
        `${workload.description}.${bare?.requestsPerSecond ? ` Bare Express: ${Math.round(bare.requestsPerSecond)} req/s.` : ""}`,
        "",
      );
      // Only tables with a variant on a server get its column: round trips per request.
      const withServer = rows.some((row) => row.serverCallsPerRequest !== undefined);
      const serverCell = (row: Summary) => (withServer ? ` ${fixed(row.serverCallsPerRequest, 2)} |` : "");
      lines.push(
        `| variant | req/s ÷ bare | rounds' spread | req/s | CPU µs/req | CPU − bare |${withServer ? " server calls/req |" : ""} p50 ms | p99 ms | ` +
          `Cookie B | Set-Cookie B${mixed ? " (write / read)" : ""} | RSS MB | valid |`,
        `| --- | ---: | ---: | ---: | ---: | ---: |${withServer ? " ---: |" : ""} ---: | ---: | ---: | ---: | ---: | --- |`,
      );
      for (const row of rankRows(rows)) {
        lines.push(
          `| ${row.variant} | ${fixed(row.ratio, 2)} | ${spreadCell(row)} | ${integer(row.requestsPerSecond)} | ${fixed(row.cpuMicrosPerRequest, 1)} | ` +
            `${cpuAboveBare(row, bare)} |${serverCell(row)} ${fixed(row.p50, 2)} | ` +
            `${fixed(row.p99, 2)} | ${integer(row.cookieBytes)} | ${setCookieCell(row, workload)} | ${fixed(row.rssMB, 1)} | ${statusCell(row)} |`,
        );
      }
      lines.push("");
      const cryptoCost = cryptoCostLine(rows, workload, server.aesGcm);
      if (cryptoCost) lines.push(cryptoCost, "");
    }
  }
  lines.push(`Produced by \`${meta.command}\`.`, "");
  return lines.join("\n");
}
