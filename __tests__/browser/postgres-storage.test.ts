// The example app in Chromium with sessions in PostgreSQL (`npm run example:postgres`), in a
// table of its own, dropped afterwards.
import { createPostgresSessionStorage, type PostgresSessionStorage } from "../../lib/index.js";
import { dropTable, postgresPort, testPool, uniqueName } from "../postgres-fixtures.js";
import { serverIsUp } from "../servers.js";
import { chromiumIsInstalled } from "./chromium.js";
import { describeExampleAppInChromium } from "./example-app-in-chromium.js";

describeExampleAppInChromium(
  {
    name: "postgres",
    serverSide: true,
    async start() {
      const pool = testPool();
      const tableName = uniqueName("browser_sessions");
      let storage: PostgresSessionStorage | undefined;
      return {
        storage(cookie) {
          storage = createPostgresSessionStorage({ pool, cookie, tableName, createTable: true });
          return storage;
        },
        storageDescription: { where: `the PostgreSQL table "${tableName}"`, serverSide: true },
        async close() {
          await storage?.close();
          await dropTable(pool, tableName);
          await pool.end();
        },
      };
    },
  },
  chromiumIsInstalled() && (await serverIsUp("PostgreSQL", postgresPort)),
);
