// The one-command runners of the do-it-yourself storages (`npm run example:do-it-yourself`,
// `npm run example:json-file`): the script starts, the example app logs in on that storage,
// and the JSON-file storage keeps the login across a restart.
import { afterAll, afterEach, describe, expect, test } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testSecret } from "./fixtures.js";

const directory = mkdtempSync(join(tmpdir(), "do-it-yourself-server-"));
const children: ChildProcess[] = [];

afterEach(async () => {
  const running = children.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(running.map((child) => new Promise((resolve) => child.once("exit", resolve).kill("SIGTERM"))));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Starts the runner as `npm run` does and resolves to the URL it prints once listening. */
function startRunner(storage: string, environment: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/do-it-yourself-server.ts", storage], {
    env: { ...process.env, PORT: "0", SESSION_SECRET: testSecret, ...environment },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s; output: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child });
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}; output: ${output}`));
    });
  });
}

/** Logs in through the form and follows the redirect by hand, as a browser does; resolves to the cookie and the page. */
async function logIn(url: string): Promise<{ cookie: string; page: string }> {
  const login = await fetch(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ name: "Ada" }),
    redirect: "manual",
  });
  expect([302, 303]).toContain(login.status);
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const page = await (await fetch(url, { headers: { cookie } })).text();
  return { cookie, page };
}

describe("the do-it-yourself storage runners", () => {
  test.each(["map", "json-file"])("%s: the example app logs in and shows the flash on its storage", async (storage) => {
    const { url } = await startRunner(storage, { SESSIONS_FILE: join(directory, `${storage}.json`) });
    const { page } = await logIn(url);
    expect(page).toContain("Welcome back, Ada");
  }, 30_000);

  test("json-file: a login survives a restart of the server", async () => {
    const file = join(directory, "restart.json");
    const first = await startRunner("json-file", { SESSIONS_FILE: file });
    const { cookie } = await logIn(first.url);
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGTERM");
    await exited;

    const second = await startRunner("json-file", { SESSIONS_FILE: file });
    const page = await (await fetch(second.url, { headers: { cookie } })).text();
    expect(page).toContain("Ada");
    expect(page).not.toContain("Welcome back"); // the flash was shown once, before the restart
  }, 40_000);

  test("an unknown storage name stops with a sentence naming the choices", async () => {
    await expect(startRunner("mongo")).rejects.toThrow(/"map" or "json-file", got "mongo"/);
  }, 30_000);
});
