// Scale-out: two processes of the example app (examples/server.ts, as `npm run example:redis`
// runs it) share one Redis. A visitor whose requests land on either one keeps one session:
// created on one, read, changed and flashed on the other.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Redis } from "ioredis";
import request, { type Response } from "supertest";
import { cookiePair, setCookieFor, testSecret } from "./fixtures.js";
import { deleteKeysUnder, ioredisClient, keysUnder, redisPort, redisUrl, uniquePrefix } from "./redis-fixtures.js";
import { serverIsUp } from "./servers.js";

const redisIsUp = await serverIsUp("Redis", redisPort);
const prefix = uniquePrefix("scale-out");

type AppProcess = { url: string; child: ChildProcess };

/** Starts examples/server.ts with sessions in Redis, in a process of its own, on a free port. */
async function startAppProcess(): Promise<AppProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../examples/server.ts")], {
    env: { ...process.env, SESSION_STORAGE: "redis", REDIS_URL: redisUrl, REDIS_PREFIX: prefix, SESSION_SECRET: testSecret, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not start within 10 s:\n${output}`)), 10_000);
    const read = (data: Buffer) => {
      output += data.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]!);
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => reject(new Error(`the app exited with code ${code}:\n${output}`)));
  });
  return { url, child };
}

async function stopAppProcess({ child }: AppProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM"); // the example's graceful shutdown closes its Redis connection
  await exited;
}

const visitsOn = (page: Response) => Number(/<span class="visits">(\d+)<\/span>/.exec(page.text)?.[1]);
const flashOn = (page: Response) => /<p class="flash" role="status">([^<]*)<\/p>/.exec(page.text)?.[1];

(redisIsUp ? describe : describe.skip)("two app processes sharing one Redis", () => {
  let first: AppProcess;
  let second: AppProcess;
  let observer: Redis;

  beforeAll(async () => {
    [first, second, observer] = await Promise.all([startAppProcess(), startAppProcess(), ioredisClient()]);
  }, 20_000);

  afterAll(async () => {
    await Promise.all([first, second].filter(Boolean).map(stopAppProcess));
    await deleteKeysUnder([observer], prefix);
    observer.disconnect();
  });

  test("a session created on one is read, changed and flashed on the other", async () => {
    expect(first.url).not.toBe(second.url);

    // Logged in on the first process: a new session id, a user, a flash.
    const login = await request(first.url).post("/login").type("form").send({ name: "Ada" });
    expect(login.status).toBe(302);
    const session = cookiePair(login);
    expect(await keysUnder(observer, prefix)).toHaveLength(1);

    // The second process shows the flash and the user, and counts the visit.
    const onSecond = await request(second.url).get("/").set("Cookie", session);
    expect(flashOn(onSecond)).toBe("Welcome back, Ada");
    expect(onSecond.text).toContain("Signed in as <strong>Ada</strong>");
    expect(visitsOn(onSecond)).toBe(1);

    // Back on the first: the change made on the second is there, and the flash was shown once.
    const onFirst = await request(first.url).get("/").set("Cookie", session);
    expect(visitsOn(onFirst)).toBe(2);
    expect(flashOn(onFirst)).toBeUndefined();

    // Logged out on the second, with a flash for the next page; the first shows it.
    const logout = await request(second.url).post("/logout").set("Cookie", session);
    const afterLogout = cookiePair(logout);
    expect(setCookieFor(logout)).toBeDefined();
    const signedOut = await request(first.url).get("/").set("Cookie", afterLogout);
    expect(flashOn(signedOut)).toBe("Signed out");
    expect(signedOut.text).not.toContain("Signed in as");

    // The session from before the logout is gone for both processes.
    for (const app of [first, second]) {
      const old = await request(app.url).get("/").set("Cookie", session);
      expect(old.text).not.toContain("Signed in as");
      expect(visitsOn(old)).toBe(1);
    }
  });
});
