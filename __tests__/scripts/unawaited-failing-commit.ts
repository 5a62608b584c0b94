// Run as its own Node process by middleware-errors.test.ts: with Node's default handling, an
// unhandled rejection ends the process with exit code 1 before the last line prints.
import express from "express";
import { sessions, type SessionStorage } from "../../lib/index.js";

const failing: SessionStorage<unknown> = {
  async fromHeader() {
    return [{ content: new Map(), flashedKeys: new Set() }];
  },
  async toHeader(): Promise<string> {
    throw new Error("storage is down");
  },
};

const app = express();
app.use(sessions({ storage: failing }));
app.post("/", async (req, res) => {
  req.session.set("user", "ada");
  void req.session.commit();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the rejection settles unobserved
  res.send("ok");
});
app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(500).send(error.message);
});

const server = app.listen(0, "127.0.0.1", async () => {
  const { port } = server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(`status ${response.status}: ${await response.text()}`);
  server.close();
});
