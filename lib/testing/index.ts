/**
 * Test helpers for session storages, at `remastered-sessions/testing`: run the
 * conformance checks over your own storage under jest, vitest or node:test.
 */
export { testSessionStorage, type StorageConformanceOptions } from "./storage-conformance.js";
