// Redis servers a test starts for itself, on loopback ports of its own: a standalone server
// to stop and restart mid-test or to count commands on, and a three-node Redis Cluster.
// Each runs as a child process with its data in a temporary folder, and is stopped by its
// process id (never by name): the machine's Redis on 6379 is left alone.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A redis-server child process on 127.0.0.1:`port`. */
export type RedisServer = {
  readonly port: number;
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL, as a crash would) and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with the same settings (and no data: nothing is saved). */
  restart(): Promise<void>;
  /** Kills it for good and removes its folder. */
  stop(): Promise<void>;
};

const started = new Set<ChildProcess>();
// A test run that ends without its afterAll (a crash, a timeout) still stops what it started.
process.once("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

/**
 * Starts `redis-server` on a free loopback port (or `port`), keeping nothing on disk.
 *
 * @example
 * const server = await startRedisServer();
 * const client = new Redis(server.port, "127.0.0.1");
 * await server.kill();  // Redis is down
 * await server.restart();
 * await server.stop();
 */
export async function startRedisServer({ port, extraArguments = [] }: { port?: number; extraArguments?: string[] } = {}): Promise<RedisServer> {
  const chosenPort = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), `redis-${chosenPort}-`));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawnRedis(chosenPort, dir, extraArguments);
    await waitUntilAnswering(chosenPort, child);
  };
  const kill = async () => {
    if (child) await stopProcess(child);
    child = undefined;
  };
  await start();
  return {
    port: chosenPort,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A local Redis Cluster: masters only, each on its own port. */
export type RedisCluster = {
  readonly ports: number[];
  stop(): Promise<void>;
};

/**
 * Starts a Redis Cluster of `size` masters (no replicas) on free loopback ports, and waits
 * until every node reports `cluster_state:ok`. About a second.
 *
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
 * await cluster.stop();
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const ports: number[] = [];
  // A node also listens on port + 10000 (the cluster bus): both must be free, and both
  // below the range the OS hands out to outgoing connections (32768 and up).
  while (ports.length < size) {
    const port = await freePort({ alsoFree: 10_000, below: 22_700 });
    if (!ports.includes(port)) ports.push(port);
  }
  const children = ports.map((port) =>
    spawnRedis(port, dir, ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"]),
  );
  const stop = async () => {
    await Promise.all(children.map(stopProcess));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port, index) => waitUntilAnswering(port, children[index]!)));
    await run("redis-cli", ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"]);
    await Promise.all(ports.map(waitUntilClusterIsOk));
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, stop };
}

function spawnRedis(port: number, dir: string, extraArguments: string[]): ChildProcess {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", ...extraArguments],
    { stdio: "ignore" },
  );
  started.add(child);
  child.once("exit", () => started.delete(child));
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

async function waitUntilAnswering(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    if (await answersPing(port)) return;
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer within 5 s`);
}

async function waitUntilClusterIsOk(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
    if (stdout.includes("cluster_state:ok")) return;
    await sleep(25);
  }
  throw new Error(`the cluster node on port ${port} did not reach cluster_state:ok within 5 s`);
}

/** Whether a Redis answers PING on 127.0.0.1:`port`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}

/** A port nothing listens on (nor on port + `alsoFree`, when given), from a range the OS does not hand out on its own. */
async function freePort({ alsoFree, below = 30_000 }: { alsoFree?: number; below?: number } = {}): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (below - 20_000));
    if ((await canListen(port)) && (alsoFree === undefined || (await canListen(port + alsoFree)))) return port;
  }
  throw new Error("no free loopback port found");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
