/**
 * Starting and stopping the server children. Every child started here is tracked by its
 * process id and killed (SIGKILL) at exit, on errors and on SIGINT/SIGTERM.
 */
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ChildMessage, ChildOptions, ParentMessage } from "./protocol.js";
import type { ServerCounts } from "./routes.js";
import type { ServerCallCounts } from "./routes.js";

const serverModule = fileURLToPath(new URL("./server.ts", import.meta.url));
// The children run TypeScript through tsx's loader, under whichever node binary --node names.
const tsxLoader = import.meta.resolve("tsx");

/**
 * Extra node flags for every server child, from BENCH_SERVER_NODE_FLAGS (space-separated):
 * e.g. `--cpu-prof --cpu-prof-dir=bench-results/profiles` or `--trace-deopt`, to look
 * inside one variant without changing the harness.
 */
const serverNodeFlags = (process.env.BENCH_SERVER_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);

const live = new Set<ChildProcess>();

/** Kills every child still running, by process id. */
export function killAllChildren(): void {
  for (const child of live) kill(child);
  live.clear();
}

function kill(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The server's resident memory and what it counted since it started. */
export type ServerSnapshot = {
  rss: number;
  /** CPU time (user + system) the server used since it started, in µs. */
  cpuMicros: number;
  counts: ServerCounts;
  /** Variants on Redis: the commands their client sent since it started, by name. */
  serverCalls?: ServerCallCounts;
};

export type ServerChild = {
  port: number;
  pid: number;
  nodeVersion: string;
  /** Set when the child exited before it was asked to stop. */
  crash(): string | undefined;
  /** The child's last lines of output. */
  tail(): string;
  /** Its RSS and counts so far; it keeps serving. */
  snapshot(timeoutMs?: number): Promise<ServerSnapshot>;
  /** Asks the child for its final snapshot and waits for it to exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<ServerSnapshot>;
};

export async function startServer(options: {
  nodeBin: string;
  child: ChildOptions;
  logFile: string;
  label: string;
  readyTimeoutMs?: number;
}): Promise<ServerChild> {
  const { nodeBin, child: childOptions, logFile, label, readyTimeoutMs = 30_000 } = options;
  const child = fork(serverModule, [JSON.stringify(childOptions)], {
    execPath: nodeBin,
    execArgv: [...serverNodeFlags, "--import", tsxLoader],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  live.add(child);

  const lines: string[] = [];
  const record = (stream: string) => (chunk: Buffer) => {
    const text = chunk.toString();
    appendFileSync(logFile, text.replace(/^(?=.)/gm, `[${label} ${stream}] `));
    lines.push(...text.split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", record("out"));
  child.stderr?.on("data", record("err"));

  let stopping = false;
  let crashed: string | undefined;
  child.on("exit", (code, signal) => {
    live.delete(child);
    if (!stopping) crashed = `exited with ${signal ?? `code ${code}`}`;
  });
  // "close" comes after the IPC channel closed: whatever the child sent before exiting has arrived.
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));

  // One request at a time: the next "stats" or "stopped" message answers it.
  let answer: ((snapshot: ServerSnapshot) => void) | undefined;
  const ready = await new Promise<Extract<ChildMessage, { type: "ready" }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on("message", (message: ChildMessage) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === "failed") {
        clearTimeout(timer);
        reject(new Error(message.error));
      } else {
        const reply = answer;
        answer = undefined;
        reply?.({ rss: message.rss, cpuMicros: message.cpuMicros, counts: message.counts, serverCalls: message.serverCalls });
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${signal ?? `code ${code}`} before listening`));
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  }).catch((error: unknown) => {
    kill(child);
    live.delete(child);
    throw new Error(`${label}: ${(error as Error).message}\n${lines.join("\n")}`);
  });

  const request = async (message: ParentMessage, timeoutMs: number): Promise<ServerSnapshot> => {
    if (crashed) throw new Error(`server ${crashed}`);
    let timer: NodeJS.Timeout | undefined;
    let replied = false;
    try {
      return await Promise.race([
        new Promise<ServerSnapshot>((resolve) => {
          answer = (snapshot) => {
            replied = true;
            resolve(snapshot);
          };
          child.send(message);
        }),
        closed.then((): never => {
          if (replied) return undefined as never;
          throw new Error(`server exited without answering "${message.type}"\n${lines.join("\n")}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`server did not answer "${message.type}" within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    port: ready.port,
    pid: ready.pid,
    nodeVersion: ready.nodeVersion,
    crash: () => crashed,
    tail: () => lines.join("\n"),
    snapshot: (timeoutMs = 10_000) => request({ type: "stats" }, timeoutMs),
    async stop(timeoutMs = 15_000) {
      try {
        stopping = !crashed;
        const snapshot = await request({ type: "stop" }, timeoutMs);
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
        return snapshot;
      } finally {
        kill(child);
        live.delete(child);
      }
    },
  };
}
