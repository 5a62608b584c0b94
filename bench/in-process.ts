/**
 * CPU µs per request of each variant, server and client in one process: for A/B tests of
 * a change to the library, with less noise than the side-by-side benchmark (no load
 * generator competing for the cores, no req/s). The client is a minimal keep-alive
 * HTTP/1.1 loop on raw sockets, the same for every variant, so differences between
 * variants are the server's; "− bare" removes the client and Express.
 *
 *   npm run build && tsx bench/in-process.ts [--requests=N] [--rounds=N] [--workload=write|read-only] [variant...]
 *   node --import tsx bench/in-process.ts ...   (any node binary; add --cpu-prof, --trace-deopt)
 *   ... --alt=/elsewhere/dist remastered-cookie remastered-cookie@alt   (A/B: another build, interleaved)
 *
 * Rounds are interleaved (every variant once per round) and each variant's lowest CPU/req
 * over its rounds is reported: noise only ever adds CPU time.
 */
import { connect, type AddressInfo, type Socket } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import express from "express";
import { mountRoutes, newServerCounts, type VariantFactory } from "./routes.js";
import type { StorageMaker } from "./variants/remastered.js";
import { openSessions } from "./load.js";
import { variants } from "./variants/index.js";
import { workloads } from "./workloads.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    workload: { type: "string", default: "write" },
    // Another build of the package (a dist/ folder): adds remastered-cookie@alt and remastered-memory@alt, run interleaved with ours.
    alt: { type: "string" },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const workload = workloads.find((candidate) => candidate.name === values.workload);
if (!workload) throw new Error(`unknown workload ${values.workload}`);
const names = positionals.length > 0 ? ["bare", ...positionals.filter((name) => name !== "bare")] : ["bare", "no-crypto-probe", "remastered-cookie", "remastered-memory"];

type Server = { name: string; port: number; counts: ReturnType<typeof newServerCounts>; cookies: string[] };

type Library = typeof import("../dist/index.js");

/** Our cookie and memory storages from the build in `dir` (an A/B test of a library change). */
async function alternativeVariant(name: string, dir: string): Promise<VariantFactory> {
  const lib = (await import(pathToFileURL(path.resolve(dir, "index.js")).href)) as Library;
  const { remastered } = await import("./variants/remastered.js");
  const storageOf: Record<string, StorageMaker> = {
    "remastered-cookie@alt": (cookie) => lib.createCookieSessionStorage({ cookie }),
    "remastered-memory@alt": (cookie) => lib.createMemorySessionStorage({ cookie }),
  };
  const makeStorage = storageOf[name];
  if (!makeStorage) throw new Error(`unknown variant ${name}: --alt builds ${Object.keys(storageOf).join(", ")}`);
  return remastered(makeStorage, lib);
}

async function start(name: string): Promise<Server> {
  const entry = variants.find((candidate) => candidate.name === name);
  const factory = entry ? await entry.load() : values.alt ? await alternativeVariant(name, values.alt) : undefined;
  if (!factory) throw new Error(`unknown variant ${name}`);
  const variant = await factory({ runId: `in-process-${process.pid}` });
  const app = express();
  const counts = newServerCounts();
  variant.mount(app);
  mountRoutes(app, variant, counts);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as AddressInfo).port;
  return { name, port, counts, cookies: await openSessions(port, workload!, connections) };
}

/** Sends `count` requests over one keep-alive socket, one at a time, and waits for each whole answer. */
function drive(port: number, cookie: string, count: number): Promise<void> {
  const requestsOfCycle = workload!.cycle.map(
    ({ method, path }) =>
      `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${cookie ? `cookie: ${cookie}\r\n` : ""}content-length: 0\r\n\r\n`,
  );
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let sent = 0;
    let buffered = "";
    const sendNext = () => socket.write(requestsOfCycle[sent++ % requestsOfCycle.length]!);
    socket.setEncoding("latin1");
    socket.on("connect", sendNext);
    socket.on("error", reject);
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const headerEnd = buffered.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headerEnd))?.[1] ?? 0);
      if (buffered.length < headerEnd + 4 + length) return;
      if (!buffered.startsWith("HTTP/1.1 200")) return reject(new Error(buffered.slice(0, 200)));
      buffered = buffered.slice(headerEnd + 4 + length);
      if (sent < count) sendNext();
      else {
        socket.destroy();
        resolve();
      }
    });
  });
}

async function cpuPerRequest(server: Server): Promise<number> {
  const perConnection = Math.ceil(requests / connections);
  const start = process.cpuUsage();
  await Promise.all(server.cookies.map((cookie) => drive(server.port, cookie, perConnection)));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (perConnection * connections);
}

const servers: Server[] = [];
for (const name of names) servers.push(await start(name));
for (const server of servers) await cpuPerRequest(server); // warm-up
const best = new Map<string, number>();
for (let round = 0; round < rounds; round++) {
  for (const server of servers) {
    const micros = await cpuPerRequest(server);
    best.set(server.name, Math.min(best.get(server.name) ?? Infinity, micros));
  }
}
const bare = best.get("bare")!;
console.log(`${process.version} ${workload.name}: CPU µs/request (lowest of ${rounds} rounds of ${requests} requests), client and server in one process`);
for (const server of servers) {
  if (server.counts.invalid > 0 || server.counts.errors > 0) throw new Error(`${server.name}: ${server.counts.invalid} invalid, ${server.counts.errors} errors`);
  const micros = best.get(server.name)!;
  console.log(`${server.name.padEnd(26)} ${micros.toFixed(1).padStart(7)}  ${server.name === "bare" ? "" : `+${(micros - bare).toFixed(1)}`}`);
}
process.exit(0);
