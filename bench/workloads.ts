/**
 * The workloads: which requests each connection sends, in a fixed cycle, so that every
 * variant sees exactly the same mix. Sizes are bytes of the session's JSON content.
 */

export type BenchRequest = { method: "GET" | "POST"; path: string };

export type Workload = {
  name: string;
  description: string;
  /** Bytes of the user object's JSON that setup and every write store. */
  userBytes: number;
  /** One cycle of each connection's requests (autocannon's `requests`, repeated). */
  cycle: BenchRequest[];
};

/** `{"counter":1,"user":}`: what the session adds around the user object when it is JSON. */
const sessionOverheadBytes = JSON.stringify({ counter: 1, user: null }).length - "null".length;

const write = (userBytes: number): BenchRequest => ({ method: "POST", path: `/write/${userBytes}` });
const read: BenchRequest = { method: "GET", path: "/read" };

/** Write-heavy with a session content of `sessionBytes` bytes of JSON (counter and user). */
const sized = (name: string, sessionBytes: number): Workload => ({
  name,
  description: `write-heavy; session content ${sessionBytes} B of JSON`,
  userBytes: sessionBytes - sessionOverheadBytes,
  cycle: [write(sessionBytes - sessionOverheadBytes)],
});

export const workloads: Workload[] = [
  {
    name: "write",
    description: "every request reads the counter, increments it and stores a 200-byte user object",
    userBytes: 200,
    cycle: [write(200)],
  },
  {
    name: "read-only",
    description: "every request only reads the session (a 200-byte user) and answers it: a logged-in user browsing",
    userBytes: 200,
    cycle: [read],
  },
  {
    name: "read",
    description: "read-mostly: 9 of 10 requests only read the session, 1 of 10 writes it (200-byte user)",
    userBytes: 200,
    cycle: [read, read, read, read, read, read, read, read, read, write(200)],
  },
  sized("size-200", 200),
  sized("size-1k", 1000),
  sized("size-3k", 3000),
];
