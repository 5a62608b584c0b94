// The example app (examples/app.ts) driven by headless Chromium: the same stories for every
// storage, each test file naming its storage. What is asserted is what the browser itself
// did: the page it shows, the cookies in its jar, what its scripts can see.
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, BrowserContextOptions, Cookie, Page, Response } from "playwright-core";
import type { AppOptions } from "../../examples/app.js";
import { launchChromium } from "./chromium.js";
import { startExampleServer, type ExampleServer } from "./example-server.js";

/** A storage for the example app, started by a test file. */
export type StorageUnderTest = {
  /** Names the suite and the screenshots: "cookie", "memory", "redis", "postgres". */
  name: string;
  /** Whether the session lives on the server (a logout then ends every copy of the cookie). */
  serverSide: boolean;
  /** What the example app takes, and how to stop the storage afterwards. */
  start(): Promise<StartedStorage>;
};

export type StartedStorage = Required<Pick<AppOptions, "storage" | "storageDescription">> & {
  /** Moves the storage's clock to `seconds` from now (0: back to now); the cookie storage's test passes it. */
  setClockAhead?(seconds: number): void;
  close?(): Promise<void>;
};

/** The idle lifetime the example app gives its cookie (examples/app.ts). */
const cookieLifetimeSeconds = 60 * 60;

const devices = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
} satisfies Record<string, BrowserContextOptions>;
type Device = keyof typeof devices;

/** Git-ignored; CI keeps the folder as an artefact. */
export const screenshotsFolder = fileURLToPath(new URL("../../artifacts/screenshots/", import.meta.url));

/**
 * Runs the browser stories against the example app on `storage`; skipped (by the caller's
 * `available`) when Chromium or the storage's server is missing.
 */
export function describeExampleAppInChromium(storage: StorageUnderTest, available: boolean): void {
  (available ? describe : describe.skip)(`the example app in Chromium, sessions in ${storage.name}`, () => {
    jest.setTimeout(30_000);
    let browser: Browser;
    let started: StartedStorage;
    let server: ExampleServer;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      mkdirSync(screenshotsFolder, { recursive: true });
      [browser, started] = await Promise.all([launchChromium(), storage.start()]);
      server = await startExampleServer(started);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await started?.close?.();
    });

    afterEach(async () => {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
    });

    /** A fresh browser profile: its own cookie jar, as a new visitor. */
    async function newVisitor(device: Device = "desktop"): Promise<BrowserContext> {
      const context = await browser.newContext(devices[device]);
      context.setDefaultTimeout(10_000); // a step that hangs fails with its own name, before the test's timeout
      contexts.push(context);
      return context;
    }

    async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
      const cookies = await context.cookies(server.url);
      expect(cookies.filter((cookie) => cookie.name === "sid").length).toBeLessThanOrEqual(1);
      return cookies.find((cookie) => cookie.name === "sid");
    }

    /** A new visitor who logged in as Ada through the form, and the cookie that login left in the jar. */
    async function visitorSignedInAsAda(): Promise<{ context: BrowserContext; page: Page; signedIn: Cookie }> {
      const context = await newVisitor();
      const page = await context.newPage();
      await page.goto(server.url);
      await page.fill("input[name=name]", "Ada");
      await submit(page, "Log in");
      return { context, page, signedIn: (await sessionCookie(context))! };
    }

    async function screenshot(page: Page, step: number, name: string, device: Device): Promise<void> {
      await page.screenshot({ path: `${screenshotsFolder}${storage.name}-${step}-${name}-${device}.png`, fullPage: true });
    }

    test.each(Object.keys(devices) as Device[])(
      "on a %s: log in through the form, the flash shows once after the redirect, then log out; every page styled, no error",
      async (device) => {
        const page = await (await newVisitor(device)).newPage();
        const problems = watchForProblems(page);

        await page.goto(server.url);
        expect(await visitsOn(page)).toBe(1);
        expect(await page.locator(".flash").count()).toBe(0);
        await expectStyled(page, device);
        await screenshot(page, 1, "first-visit", device);

        await page.fill("input[name=name]", "Ada");
        const landing = await submit(page, "Log in");
        // The form's POST was answered with a redirect, and the browser followed it.
        expect(landing.request().redirectedFrom()?.method()).toBe("POST");
        expect(new URL(landing.request().redirectedFrom()!.url()).pathname).toBe("/login");
        expect(await page.locator(".flash").textContent()).toBe("Welcome back, Ada");
        expect(await page.locator(".signed-in").textContent()).toBe("Signed in as Ada");
        expect(await visitsOn(page)).toBe(2);
        await expectStyled(page, device);
        await screenshot(page, 2, "welcome", device);

        await page.reload();
        expect(await page.locator(".flash").count()).toBe(0);
        expect(await page.locator(".signed-in").textContent()).toBe("Signed in as Ada");
        expect(await visitsOn(page)).toBe(3);
        await screenshot(page, 3, "signed-in", device);

        await submit(page, "Log out");
        expect(await page.locator(".flash").textContent()).toBe("Signed out");
        expect(await page.locator("input[name=name]").isVisible()).toBe(true);
        expect(await visitsOn(page)).toBe(1); // the counter was in the session logout ended
        await screenshot(page, 4, "signed-out", device);

        expect(problems).toEqual([]);
      },
    );

    test("an image and a fetch poll sent between the redirect and the page do not eat the flash", async () => {
      const context = await newVisitor();
      const page = await context.newPage();
      await page.goto(server.url);
      await page.fill("input[name=name]", "Ada");

      // The browser follows the login's redirect, but that page view is turned away (204: the
      // browser stays on the form), so the requests below come after the redirect and before the page.
      const turnedAway = server.turnAwayNextPageView();
      await page.getByRole("button", { name: "Log in" }).click();
      await turnedAway;
      const polled = await page.evaluate(async () => {
        const image = new Image();
        image.src = "/favicon.svg";
        await image.decode();
        const status = await fetch("/status");
        return { imageWidth: image.naturalWidth, status: await status.json() };
      });
      expect(polled.imageWidth).toBeGreaterThan(0);
      expect(polled.status).toEqual({ signedIn: true, visits: 1 }); // they carried the cookie from the redirect

      await page.goto(server.url);
      expect(await page.locator(".flash").textContent()).toBe("Welcome back, Ada");
      await page.reload();
      expect(await page.locator(".flash").count()).toBe(0);
    });

    test("the visit counter counts across reloads and across two tabs", async () => {
      const context = await newVisitor();
      const firstTab = await context.newPage();
      await firstTab.goto(server.url);
      expect(await visitsOn(firstTab)).toBe(1);
      await firstTab.reload();
      expect(await visitsOn(firstTab)).toBe(2);

      const secondTab = await context.newPage();
      await secondTab.goto(server.url);
      expect(await visitsOn(secondTab)).toBe(3);
      await firstTab.reload();
      expect(await visitsOn(firstTab)).toBe(4);
      await secondTab.reload();
      expect(await visitsOn(secondTab)).toBe(5);

      // Another visitor has a counter of their own.
      const otherVisitor = await (await newVisitor()).newPage();
      await otherVisitor.goto(server.url);
      expect(await visitsOn(otherVisitor)).toBe(1);
    });

    test("the cookie in the jar is HttpOnly, SameSite=Lax, Secure (accepted over http on localhost), Path=/, for an hour; scripts cannot see it", async () => {
      const context = await newVisitor();
      const page = await context.newPage();
      const openedAt = Date.now() / 1000;
      await page.goto(server.url);

      const cookie = await sessionCookie(context);
      expect(cookie).toMatchObject({ name: "sid", domain: "localhost", path: "/", httpOnly: true, secure: true, sameSite: "Lax" });
      // Max-Age=3600: the browser keeps it an hour from now (not until the browser closes: expires is not -1).
      expect(cookie!.expires).toBeGreaterThanOrEqual(Math.floor(openedAt) + cookieLifetimeSeconds - 1);
      expect(cookie!.expires).toBeLessThanOrEqual(Date.now() / 1000 + cookieLifetimeSeconds + 1);
      expect(await page.evaluate(() => document.cookie)).toBe("");

      // Secure on localhost is not a formality: the browser does send it back over http there.
      await page.reload();
      expect(await visitsOn(page)).toBe(2);
    });

    test("a form on another site cannot sign the visitor out, nor in as someone else: the app refuses cross-site posts", async () => {
      const { context, page, signedIn } = await visitorSignedInAsAda();

      // 127.0.0.1 is another site than localhost for the browser. SameSite=Lax keeps the cookie
      // off these posts; without the app's check, the cookie in the answer would replace Ada's.
      const otherSite = server.url.replace("localhost", "127.0.0.1") + "/elsewhere";
      await context.route(otherSite, (route) =>
        route.fulfill({
          contentType: "text/html",
          body: `<form method="post" action="${server.url}/logout"><button>Win a prize</button></form>
            <form method="post" action="${server.url}/login"><input type="hidden" name="name" value="Mallory"><button>Claim it</button></form>`,
        }),
      );
      const elsewhere = await context.newPage();
      for (const label of ["Win a prize", "Claim it"]) {
        await elsewhere.goto(otherSite);
        const answer = elsewhere.waitForResponse((response) => response.request().method() === "POST");
        await elsewhere.getByRole("button", { name: label }).click();
        expect((await answer).status()).toBe(403);
      }

      expect((await sessionCookie(context))?.value).toBe(signedIn.value);
      await page.reload();
      expect(await page.locator(".signed-in").textContent()).toBe("Signed in as Ada");
    });

    test(
      storage.serverSide
        ? "logout replaces the cookie in the jar with a signed-out one, and a copy of the old cookie no longer logs in"
        : "logout replaces the cookie in the jar with a signed-out one; a copy of the old cookie stays valid until its lifetime ends, as the page says",
      async () => {
        const { context, page, signedIn } = await visitorSignedInAsAda();

        await submit(page, "Log out");
        // The flash "Signed out" lives in a new, signed-out session: the jar holds its cookie, not the old one.
        const signedOut = await sessionCookie(context);
        expect(signedOut?.value).toBeDefined();
        expect(signedOut!.value).not.toBe(signedIn.value);
        await page.reload();
        expect(await page.locator(".signed-in").count()).toBe(0);
        expect(await page.locator("input[name=name]").isVisible()).toBe(true);

        // Someone who copied the cookie before the logout, in a browser of their own.
        const copier = await newVisitor();
        await copier.addCookies([signedIn]);
        const copy = await copier.newPage();
        await copy.goto(server.url);
        const about = await copy.locator(".about").textContent();
        if (storage.serverSide) {
          expect(await copy.locator(".signed-in").count()).toBe(0);
          expect(about).toContain("a copy of the old cookie no longer signs anyone in");
          return;
        }
        expect(await copy.locator(".signed-in").textContent()).toBe("Signed in as Ada");
        expect(about).toContain("a copy taken before stays valid until its lifetime ends");
        try {
          started.setClockAhead!(cookieLifetimeSeconds + 1); // an hour unused later, for the server
          await copy.reload(); // the browser still sends it (its own clock did not move); the server refuses it
          expect(await copy.locator(".signed-in").count()).toBe(0);
        } finally {
          started.setClockAhead!(0);
        }
      },
    );
  });
}

/** Clicks the submit button labelled `label` and resolves to the page the browser landed on, once loaded. */
async function submit(page: Page, label: string): Promise<Response> {
  const pageView = page.waitForResponse((response) => response.request().isNavigationRequest() && response.request().method() === "GET");
  const loaded = page.waitForEvent("load");
  await page.getByRole("button", { name: label }).click();
  const [response] = await Promise.all([pageView, loaded]);
  return response;
}

async function visitsOn(page: Page): Promise<number> {
  return Number(await page.locator(".visits").textContent());
}

/** Console errors (a CSP violation is one), uncaught script errors and failed or refused subresources. */
function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  return problems;
}

/** The app's stylesheet applied (under its CSP), and on a phone the page laid out at the phone's width. */
async function expectStyled(page: Page, device: Device): Promise<void> {
  const looks = await page.evaluate(() => {
    const flash = document.querySelector(".flash");
    return {
      font: getComputedStyle(document.body).fontFamily,
      flashBorder: flash ? getComputedStyle(flash).borderLeftWidth : undefined,
      layoutWidth: document.documentElement.clientWidth,
      contentWidth: document.documentElement.scrollWidth,
    };
  });
  expect(looks.font).toMatch(/^system-ui/);
  if (looks.flashBorder !== undefined) expect(looks.flashBorder).toBe("4px");
  // Without the viewport tag a phone lays the page out 980 px wide and shrinks it.
  expect(looks.layoutWidth).toBe(devices[device].viewport.width);
  expect(looks.contentWidth).toBeLessThanOrEqual(looks.layoutWidth); // nothing to scroll sideways
}
