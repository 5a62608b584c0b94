// The example app in Chromium with sessions in the process's memory (`SESSION_STORAGE=memory npm start`).
import { createMemorySessionStorage } from "../../lib/index.js";
import { chromiumIsInstalled } from "./chromium.js";
import { describeExampleAppInChromium } from "./example-app-in-chromium.js";

describeExampleAppInChromium(
  {
    name: "memory",
    serverSide: true,
    async start() {
      return {
        storage: (cookie) => createMemorySessionStorage({ cookie }),
        storageDescription: { where: "this process's memory", serverSide: true },
      };
    },
  },
  chromiumIsInstalled(),
);
