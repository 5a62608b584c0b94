// The conformance kit under node:test (jest runs the same kit in __tests__/storage-conformance.test.ts).
import { describe, test } from "node:test";
import { createCookieSessionStorage, createMemorySessionStorage } from "../../lib/index.js";
import { testSessionStorage } from "../../lib/testing/index.js";

const cookie = { name: "sid", secret: "node-test-secret-0123456789-abcdefghij", maxAge: 600, absoluteTimeout: 3600 };

testSessionStorage("the cookie storage", {
  describe,
  test,
  maxAge: 600,
  absoluteTimeout: 3600,
  stateless: true,
  createStorage: (clock) => createCookieSessionStorage({ cookie, clock }),
});

testSessionStorage("the memory storage", {
  describe,
  test,
  maxAge: 600,
  absoluteTimeout: 3600,
  createStorage: (clock) => createMemorySessionStorage({ cookie, clock }),
});
