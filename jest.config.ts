import type { JestConfigWithTsJest } from "ts-jest";

// ESM mode: jose 6 ships ES modules only. `npm test` sets --experimental-vm-modules.
const config: JestConfigWithTsJest = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: {
    // Sources import "./x.js" (NodeNext style); jest resolves the .ts file.
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
  },
  testTimeout: 15_000,
};

export default config;
