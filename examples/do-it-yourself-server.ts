// The example app on a storage you write yourself, in one command:
//   npm run example:do-it-yourself   sessions in examples/do-it-yourself-storage.ts (a Map standing for your table)
//   npm run example:json-file        sessions in examples/json-file-storage.ts (a JSON file, kept across restarts)
// PORT (default 3000), SESSION_SECRET (default: a random one, so sessions end with the process) and,
// for the JSON file, SESSIONS_FILE (default sessions.json in the current folder) change the defaults.
// The cookie is not Secure here, so plain http works in any client; see examples/server.ts for production settings.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { createApp, type AppOptions } from "./app.js";
import { createMapSessionStorage } from "./do-it-yourself-storage.js";
import { createJsonFileSessionStorage } from "./json-file-storage.js";

const storages: Record<string, { storage: NonNullable<AppOptions["storage"]>; where: string }> = {
  map: { storage: (cookie) => createMapSessionStorage({ cookie }), where: "a Map in this process (examples/do-it-yourself-storage.ts)" },
  "json-file": {
    storage: (cookie) => createJsonFileSessionStorage({ cookie, file: sessionsFile() }),
    where: `the JSON file ${sessionsFile()} (examples/json-file-storage.ts)`,
  },
};

function sessionsFile(): string {
  return resolve(process.env.SESSIONS_FILE || "sessions.json");
}

const choice = process.argv[2] ?? "map";
const chosen = storages[choice];
if (!chosen) {
  console.error(`Which storage? ${Object.keys(storages).map((name) => `"${name}"`).join(" or ")}, got ${JSON.stringify(choice)}.`);
  process.exit(1);
}

// A secret that changes on every start would make a JSON file's sessions unreadable after a restart: say so.
const secret = process.env.SESSION_SECRET || randomBytes(32).toString("base64url");
if (!process.env.SESSION_SECRET) console.warn("SESSION_SECRET is not set: using a random one, so sessions end when this process does.");

const app = createApp({ secret, secure: false, storage: chosen.storage });
const server = app.listen(Number(process.env.PORT ?? 3000), "localhost", () => {
  console.log(`Example app listening on http://localhost:${(server.address() as AddressInfo).port} (sessions in ${chosen.where})`);
});
process.on("SIGINT", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
