// Real servers for the storage suites: Redis and PostgreSQL on loopback (started by the
// machine, or by .ci/run), and a silent server that accepts connections and never answers.
import { createServer, Socket, type Server } from "node:net";

/**
 * Whether `name` answers on 127.0.0.1:`port`. On a laptop without it, its suites are
 * skipped with a one-line reason; under CI=true a missing server fails the run instead.
 *
 * @example
 * const redisIsUp = await serverIsUp("Redis", 6379);
 * (redisIsUp ? describe : describe.skip)("the Redis storage", () => { ... });
 */
export async function serverIsUp(name: string, port: number): Promise<boolean> {
  const up = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1", () => done(true));
  });
  if (up) return true;
  if (process.env.CI === "true") throw new Error(`${name} is not answering on 127.0.0.1:${port}, and CI=true needs it: start it (see .ci/run).`);
  console.warn(`Skipping the ${name} suites: nothing answers on 127.0.0.1:${port} (start ${name} to run them).`);
  return false;
}

/** A server on a free loopback port that accepts connections and never answers: a hung database. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
