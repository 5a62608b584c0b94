// The example app (examples/app.ts) clicked through as a visitor would, over real HTTP on
// loopback, with a hand-written cookie jar: read Set-Cookie, send Cookie back.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import request, { type Response } from "supertest";
import { createApp } from "../examples/app.js";
import { createMemorySessionStorage } from "../lib/index.js";
import { setCookies, testSecret } from "./fixtures.js";

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  // secure: false because this client talks plain http (see examples/server.ts).
  const app = createApp({ secret: testSecret, secure: false });
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A visitor with its own cookie jar, like one browser. */
function visitor() {
  const jar = new Map<string, string>();

  const remember = (res: Response) => {
    for (const header of setCookies(res)) {
      const [pair = "", ...attributes] = header.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");

  return {
    jar,
    async get(path: string) {
      return remember(await request(baseUrl).get(path).set("Cookie", cookieHeader()));
    },
    /** Submits a form; does not follow the redirect, so the test sees the 302. */
    async post(path: string, form: Record<string, string> = {}) {
      return remember(await request(baseUrl).post(path).set("Cookie", cookieHeader()).type("form").send(form));
    },
  };
}

function visitsOn(page: Response): number {
  const match = /<span class="visits">(\d+)<\/span>/.exec(page.text);
  if (!match) throw new Error(`no visit counter on the page:\n${page.text}`);
  return Number(match[1]);
}

const loginForm = '<form method="post" action="/login"';
const logoutButton = '<form method="post" action="/logout">';

describe("the example app", () => {
  test("a first visit shows the login form and a counter of 1", async () => {
    const browser = visitor();
    const page = await browser.get("/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html; charset=utf-8/);
    expect(page.text).toContain(loginForm);
    expect(page.text).toContain('name="name"');
    expect(page.text).not.toContain(logoutButton);
    expect(page.text).not.toContain('class="flash"');
    expect(visitsOn(page)).toBe(1);
    expect(page.text).toContain("viewed this page <span class=\"visits\">1</span> time.");
    // The cookie is a session cookie of the app: HttpOnly, SameSite=Lax, not Secure here.
    const [cookie] = setCookies(page);
    expect(cookie).toMatch(/^sid=/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/; Secure/);
  });

  test("each view of the home page counts up, per visitor", async () => {
    const alice = visitor();
    const bob = visitor();
    expect(visitsOn(await alice.get("/"))).toBe(1);
    expect(visitsOn(await alice.get("/"))).toBe(2);
    expect(visitsOn(await bob.get("/"))).toBe(1);
    expect(visitsOn(await alice.get("/"))).toBe(3);
  });

  test("logging in redirects home, which says 'Welcome back, Ada' once, then shows who is signed in", async () => {
    const browser = visitor();
    await browser.get("/");

    const login = await browser.post("/login", { name: "Ada" });
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe("/");
    expect(setCookies(login)).toHaveLength(1); // the session, with the flash, travels on the redirect

    const welcome = await browser.get("/");
    expect(welcome.text).toContain('<p class="flash" role="status">Welcome back, Ada</p>');
    expect(welcome.text).toContain("Signed in as <strong>Ada</strong>");
    expect(welcome.text).toContain(logoutButton);
    expect(welcome.text).not.toContain(loginForm);
    expect(visitsOn(welcome)).toBe(2);

    const reload = await browser.get("/");
    expect(reload.text).not.toContain("Welcome back");
    expect(reload.text).toContain("Signed in as <strong>Ada</strong>");
    expect(visitsOn(reload)).toBe(3);
  });

  test("requests that do not read the flash (the stylesheet, the icon, a status poll) leave it for the page", async () => {
    const browser = visitor();
    await browser.post("/login", { name: "Ada" });
    const stylesheet = await browser.get("/style.css");
    expect(stylesheet.status).toBe(200);
    expect(stylesheet.headers["content-type"]).toMatch(/^text\/css/);
    expect(setCookies(stylesheet)).toHaveLength(0);
    const icon = await browser.get("/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(setCookies(icon)).toHaveLength(0);
    const status = await browser.get("/status");
    expect(status.body).toEqual({ signedIn: true, visits: 0 });
    expect((await browser.get("/")).text).toContain("Welcome back, Ada");
  });

  test("the page is made for phones too, and only the app's own files may run or style it", async () => {
    const page = await visitor().get("/");
    expect(page.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page.text).toContain('<link rel="stylesheet" href="/style.css">');
    expect(page.text).not.toMatch(/<script|style=/);
    expect(page.headers["content-security-policy"]).toMatch(/^default-src 'self'; /);
    expect(page.headers["content-security-policy"]).toContain("form-action 'self'");
    // The source files next to the assets are not served.
    expect((await visitor().get("/app.ts")).status).toBe(404);
  });

  test("a form posted from another site (Sec-Fetch-Site: cross-site) is refused before the session is touched", async () => {
    for (const path of ["/login", "/logout"]) {
      const answer = await request(baseUrl).post(path).set("Sec-Fetch-Site", "cross-site").type("form").send({ name: "Mallory" });
      expect(answer.status).toBe(403);
      expect(answer.text).toBe("This form can only be sent from this site's own pages.");
      expect(setCookies(answer)).toHaveLength(0);
    }
    const sameSite = await request(baseUrl).post("/login").set("Sec-Fetch-Site", "same-site").type("form").send({ name: "Mallory" });
    expect(sameSite.status).toBe(403);
    const ownPage = await request(baseUrl).post("/login").set("Sec-Fetch-Site", "same-origin").type("form").send({ name: "Ada" });
    expect(ownPage.status).toBe(302);
  });

  test("the page says where the session lives and what a logout does to a copied cookie", async () => {
    const cookiePage = await visitor().get("/");
    expect(cookiePage.text).toContain("The session lives in the encrypted cookie itself");
    expect(cookiePage.text).toContain("a copy taken before stays valid until its lifetime ends");

    const serverSide = createApp({
      secret: testSecret,
      secure: false,
      storage: (cookie) => createMemorySessionStorage({ cookie }),
      storageDescription: { where: "this process's memory", serverSide: true },
    });
    const memoryPage = await request(serverSide).get("/");
    expect(memoryPage.text).toContain("The session lives in this process&#39;s memory");
    expect(memoryPage.text).toContain("a copy of the old cookie no longer signs anyone in");
    expect(memoryPage.text).not.toContain("stays valid");
  });

  test("HTML in the name is escaped, in the flash and in the page", async () => {
    const browser = visitor();
    const name = `<script>alert("x")</script>&'`;
    const login = await browser.post("/login", { name });
    expect(login.status).toBe(302);
    const page = await browser.get("/");
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;";
    expect(page.text).toContain(`Welcome back, ${escaped}</p>`);
    expect(page.text).toContain(`Signed in as <strong>${escaped}</strong>`);
    expect(page.text).not.toContain("<script>");
  });

  test("an empty name is refused with a message, and the visitor stays signed out", async () => {
    const browser = visitor();
    for (const name of ["", "   "]) {
      const login = await browser.post("/login", { name });
      expect(login.status).toBe(302);
      expect(login.headers.location).toBe("/");
      const page = await browser.get("/");
      expect(page.text).toContain('<p class="flash" role="status">Please enter your name.</p>');
      expect(page.text).toContain(loginForm);
      expect(page.text).not.toContain("Signed in as");
      expect(page.text).not.toContain("Welcome back");
    }
    // A POST without any body is the same as an empty name, not a crash.
    const bare = await request(baseUrl).post("/login");
    expect(bare.status).toBe(302);
  });

  test("a name over 40 characters is refused; exactly 40 is accepted", async () => {
    const browser = visitor();
    await browser.post("/login", { name: "x".repeat(41) });
    const refused = await browser.get("/");
    expect(refused.text).toContain("Your name can have at most 40 characters.");
    expect(refused.text).not.toContain("Signed in as");

    await browser.post("/login", { name: "y".repeat(40) });
    const accepted = await browser.get("/");
    expect(accepted.text).toContain(`Signed in as <strong>${"y".repeat(40)}</strong>`);
  });

  test("logging out ends the session: 'Signed out' once, the login form again, and the counter starts over", async () => {
    const browser = visitor();
    await browser.get("/");
    await browser.post("/login", { name: "Ada" });
    await browser.get("/");

    const logout = await browser.post("/logout");
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe("/");

    const page = await browser.get("/");
    expect(page.text).toContain('<p class="flash" role="status">Signed out</p>');
    expect(page.text).toContain(loginForm);
    expect(page.text).not.toContain("Signed in as");
    expect(visitsOn(page)).toBe(1);

    const reload = await browser.get("/");
    expect(reload.text).not.toContain("Signed out");
    expect(reload.text).toContain(loginForm);
    expect(visitsOn(reload)).toBe(2);
  });

  test("a forged or tampered cookie is a fresh, signed-out visit", async () => {
    const browser = visitor();
    await browser.post("/login", { name: "Ada" });
    const token = browser.jar.get("sid")!;
    browser.jar.set("sid", `${token.slice(0, -4)}AAAA`);
    const page = await browser.get("/");
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("Ada");
    expect(page.text).toContain(loginForm);
    expect(visitsOn(page)).toBe(1);
  });
});

describe("starting the example server (npm start)", () => {
  test("it prints the address of a working page, styled by its own stylesheet", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--import", "tsx", "examples/server.ts"], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", SESSION_SECRET: testSecret, NODE_OPTIONS: "" },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = "";
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          const address = /listening on (http:\/\/\S+)/.exec(stdout);
          if (address) resolve(address[1]!);
        });
        child.on("exit", (code) => reject(new Error(`the server exited with ${code}: ${stdout}`)));
      });
      const page = await request(url).get("/");
      expect(page.status).toBe(200);
      expect(page.text).toContain("The session lives in the encrypted cookie itself");
      expect((await request(url).get("/style.css")).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  }, 15_000);

  test("on a port already in use, it says which port is taken and how to pick another, and exits with 1", async () => {
    const { spawn } = await import("node:child_process");
    const { createServer } = await import("node:net");
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "examples/server.ts"], {
        env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", SESSION_SECRET: testSecret, NODE_OPTIONS: "" },
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} is already in use`);
      expect(stderr).toContain(`PORT=${port + 1} npm start`);
      expect(stderr).not.toContain("TypeError");
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 15_000);
});
