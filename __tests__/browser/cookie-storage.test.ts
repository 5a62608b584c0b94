// The example app in Chromium with the whole session in the encrypted cookie (`npm start`).
import { cookieStorageDescription } from "../../examples/app.js";
import { createCookieSessionStorage } from "../../lib/index.js";
import { chromiumIsInstalled } from "./chromium.js";
import { describeExampleAppInChromium } from "./example-app-in-chromium.js";

describeExampleAppInChromium(
  {
    name: "cookie",
    serverSide: false,
    async start() {
      // The storage's own clock, so the test can reach the end of a cookie's lifetime without waiting an hour.
      let aheadMs = 0;
      return {
        storage: (cookie) => createCookieSessionStorage({ cookie, clock: () => Date.now() + aheadMs }),
        storageDescription: cookieStorageDescription,
        setClockAhead: (seconds) => (aheadMs = seconds * 1000),
      };
    },
  },
  chromiumIsInstalled(),
);
