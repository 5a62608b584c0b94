import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCookieSessionStorage, createMemorySessionStorage } from "../lib/index.js";
import { testSessionStorage } from "../lib/testing/index.js";
import { createMapSessionStorage } from "../examples/do-it-yourself-storage.js";
import { createJsonFileSessionStorage } from "../examples/json-file-storage.js";
import { testCookie } from "./fixtures.js";

// The same contract checks over every storage we ship, and over the Remastered-style do-it-yourself one.
const cookie = testCookie({ maxAge: 600, absoluteTimeout: 3600 });
const timeouts = { maxAge: 600, absoluteTimeout: 3600 };

testSessionStorage("the cookie storage", {
  ...timeouts,
  stateless: true,
  createStorage: (clock) => createCookieSessionStorage({ cookie, clock }),
});

testSessionStorage("the memory storage", {
  ...timeouts,
  createStorage: (clock) => createMemorySessionStorage({ cookie, clock }),
});

testSessionStorage("the do-it-yourself JSON file storage of examples/", {
  ...timeouts,
  mergesConcurrentCommits: false,
  createStorage: (clock) =>
    createJsonFileSessionStorage({ cookie, clock, file: join(mkdtempSync(join(tmpdir(), "sessions-")), "sessions.json") }),
});

testSessionStorage("the do-it-yourself storage on the storage seams (examples/do-it-yourself-storage.ts)", {
  ...timeouts,
  createStorage: (clock) => createMapSessionStorage({ cookie, clock }),
});
