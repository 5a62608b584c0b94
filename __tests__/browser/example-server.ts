// The example app on a free loopback port, built as examples/server.ts builds it, with one
// addition for the tests: the next page view can be turned away, so that the test can send
// other requests (an image, a fetch) between a redirect and the page it leads to.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, type AppOptions } from "../../examples/app.js";
import { testSecret } from "../fixtures.js";

export type ExampleServer = {
  /** `http://localhost:<port>`: browsers treat localhost as a secure context, so Secure cookies work over http there. */
  url: string;
  /**
   * Answers the next `GET /` with 204 No Content before the app sees it (the browser then stays
   * on the page it was on); resolves once that happened.
   */
  turnAwayNextPageView(): Promise<void>;
  close(): Promise<void>;
};

/** Starts the example app with the library's cookie defaults (Secure included, as in production). */
export async function startExampleServer(options: Pick<AppOptions, "storage" | "storageDescription">): Promise<ExampleServer> {
  const app = createApp({ secret: testSecret, ...options });
  let turnedAway: (() => void) | undefined;

  const server = createServer((req, res) => {
    if (!turnedAway || !isPageView(req)) return app(req, res);
    res.writeHead(204).end();
    turnedAway();
    turnedAway = undefined;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    turnAwayNextPageView: () => new Promise<void>((resolve) => (turnedAway = resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isPageView(req: IncomingMessage): boolean {
  return req.method === "GET" && req.url === "/";
}
