/**
 * A benchmark server: one variant on Express 5, on 127.0.0.1 and a free port. Started by
 * the harness (`run.ts`) as a child process with an IPC channel; it reports its port when
 * it listens, and on "stop" reports its RSS and the session checks it counted, then exits.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import type { ChildMessage, ChildOptions, ParentMessage } from "./protocol.js";
import { describeError, mountRoutes, newServerCounts } from "./routes.js";
import { variants } from "./variants/index.js";

const send = (message: ChildMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send) throw new Error("bench/server.ts runs as a child of bench/run.ts (it needs an IPC channel)");
    process.send(message, undefined, {}, () => resolve());
  });

/** CPU time this process used so far (user + system), in µs: divided by requests, a less noisy measure than req/s. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

// The harness went away (crash, SIGKILL): do not outlive it.
process.on("disconnect", () => process.exit(1));

async function main() {
  const options = JSON.parse(process.argv[2] ?? "{}") as ChildOptions;
  const entry = variants.find((candidate) => candidate.name === options.variant);
  if (!entry) throw new Error(`unknown variant ${options.variant}`);
  const variant = await (await entry.load())({ runId: options.runId });

  const app = express();
  const counts = newServerCounts();
  variant.mount(app);
  mountRoutes(app, variant, counts);

  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });

  process.on("message", (message: ParentMessage) => {
    if (message?.type === "stats") {
      void send({
        type: "stats",
        rss: process.memoryUsage().rss,
        cpuMicros: cpuMicros(),
        counts: structuredClone(counts),
        serverCalls: variant.serverCalls?.(),
      });
      return;
    }
    if (message?.type !== "stop") return;
    // RSS first: what the run left, before any clean-up (whose Redis commands are no request's either).
    const rss = process.memoryUsage().rss;
    const cpu = cpuMicros();
    const serverCalls = variant.serverCalls?.();
    server.closeAllConnections();
    server.close();
    void (async () => {
      try {
        await variant.close?.();
      } catch (error) {
        counts.errorMessages.push(`close: ${describeError(error)}`);
        counts.errors++;
      }
      await send({ type: "stopped", rss, cpuMicros: cpu, counts, serverCalls });
      process.exit(0);
    })();
  });

  await send({
    type: "ready",
    port: (server.address() as AddressInfo).port,
    pid: process.pid,
    nodeVersion: process.version,
  });
}

main().catch(async (error: unknown) => {
  console.error(error);
  await send({ type: "failed", error: describeError(error) }).catch(() => {});
  process.exit(1);
});
