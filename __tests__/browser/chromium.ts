// Headless Chromium for the browser suites: Debian's `chromium` package (a test tool's own
// browser download cannot work on these machines), driven by playwright-core.
import { accessSync, constants } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where Chromium is looked for; CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

// No sandbox: CI runs as root in a container. The rest keeps the browser quiet and offline:
// no QUIC, no first-run pages, no background updates or sync talking to the internet.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Whether Chromium can be run. On a laptop without it, the browser suites are skipped with a
 * one-line reason; under CI=true a missing browser fails the run instead (.ci/run installs it).
 *
 * @example
 * const browserIsThere = chromiumIsInstalled();
 * (browserIsThere ? describe : describe.skip)("the app in Chromium", () => { ... });
 */
export function chromiumIsInstalled(): boolean {
  try {
    accessSync(chromiumPath, constants.X_OK);
    return true;
  } catch {
    const install = "`apt-get install -y chromium`, or point CHROMIUM_PATH at a Chromium";
    if (process.env.CI === "true") throw new Error(`Chromium is not at ${chromiumPath}, and CI=true needs it: ${install} (see .ci/run).`);
    console.warn(`Skipping the browser suites: no Chromium at ${chromiumPath} (${install} to run them).`);
    return false;
  }
}

/** Starts headless Chromium; one per test file, shared by its tests (a launch costs about half a second). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}
