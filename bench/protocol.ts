/** Messages between the harness and a server child, over the child's IPC channel. */
import type { ServerCounts } from "./routes.js";
import type { ServerCallCounts } from "./routes.js";

/** What the harness hands a child on its command line (argv[2], JSON). */
export type ChildOptions = { variant: string; runId: string };

export type ChildMessage =
  | { type: "ready"; port: number; pid: number; nodeVersion: string }
  | { type: "failed"; error: string }
  | { type: "stats"; rss: number; cpuMicros: number; counts: ServerCounts; serverCalls?: ServerCallCounts }
  | { type: "stopped"; rss: number; cpuMicros: number; counts: ServerCounts; serverCalls?: ServerCallCounts };

/** "stats": report RSS and the counts so far, keep serving; "stop": report them, clean up, exit. */
export type ParentMessage = { type: "stats" } | { type: "stop" };
