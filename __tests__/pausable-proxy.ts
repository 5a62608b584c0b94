// A TCP proxy on loopback that can hold what clients send: a network that stalls, so that a
// command leaves the client but reaches the server only after the request gave up on it.
import { createServer, Socket } from "node:net";

export type PausableProxy = {
  readonly port: number;
  /** Holds everything clients send from now on (the server's answers still flow). */
  pause(): void;
  /** Delivers what was held, in order, and lets traffic flow again. */
  resume(): void;
  close(): Promise<void>;
};

/**
 * Forwards 127.0.0.1:<its port> to 127.0.0.1:`targetPort`.
 *
 * @example
 * const proxy = await startPausableProxy(6379);
 * const client = new Redis(proxy.port, "127.0.0.1");
 * proxy.pause();   // commands sent now wait...
 * proxy.resume();  // ...and run now
 */
export async function startPausableProxy(targetPort: number): Promise<PausableProxy> {
  let paused = false;
  const connections = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();
  const server = createServer((client) => {
    const upstream = new Socket();
    const connection = { client, upstream, held: [] as Buffer[] };
    connections.add(connection);
    upstream.connect(targetPort, "127.0.0.1");
    client.on("data", (data: Buffer) => (paused ? connection.held.push(data) : upstream.write(data)));
    upstream.on("data", (data: Buffer) => client.write(data));
    const end = () => {
      connections.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on("close", end);
      socket.on("error", end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const connection of connections) {
        for (const data of connection.held.splice(0)) connection.upstream.write(data);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of connections) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
