// The do-it-yourself storage of examples/json-file-storage.ts with the real middleware,
// over real HTTP on loopback: a storage written against Remastered's interface must just work.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import express from "express";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { createJsonFileSessionStorage } from "../examples/json-file-storage.js";
import { sessions, withEncryptedCookies, type SessionStorage } from "../lib/index.js";
import { cookiePair, setCookieFor, testCookie } from "./fixtures.js";

const directory = mkdtempSync(join(tmpdir(), "json-file-storage-"));
let file: string;
let fileCount = 0;
const servers: Server[] = [];

beforeEach(() => {
  file = join(directory, `sessions-${++fileCount}.json`);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** An app on loopback whose sessions live in `file`; resolves to its base URL. */
async function startApp(storage = createJsonFileSessionStorage({ cookie: testCookie(), file })): Promise<string> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(sessions({ storage }));
  app.post("/set", (req, res) => {
    req.session.set(req.body.key, req.body.value);
    res.sendStatus(204);
  });
  app.post("/flash", (req, res) => {
    req.session.flash("message", req.body.message);
    res.redirect("/");
  });
  app.get("/get/:key", (req, res) => {
    res.json({ value: req.session.get(req.params.key) ?? null });
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The file's content: session id to saved session. */
function savedSessions(): Record<string, { content: [string, unknown][]; flashedKeys: string[]; expiresAt: number }> {
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("the JSON-file storage of the examples", () => {
  test("set and get across requests, keeping the same id", async () => {
    const url = await startApp();
    const first = await request(url).post("/set").type("form").send({ key: "color", value: "blue" });
    expect(first.status).toBe(204);
    const cookie = cookiePair(first);
    const [id, ...others] = Object.keys(savedSessions());
    expect(others).toHaveLength(0);
    expect(savedSessions()[id!]!.content).toEqual([["color", "blue"]]);

    const read = await request(url).get("/get/color").set("Cookie", cookie);
    expect(read.body).toEqual({ value: "blue" });
    expect(setCookieFor(read)).toBeUndefined(); // nothing changed: no commit, no cookie

    const second = await request(url).post("/set").set("Cookie", cookie).type("form").send({ key: "size", value: "L" });
    expect(Object.keys(savedSessions())).toEqual([id]);
    const both = await request(url).get("/get/size").set("Cookie", cookiePair(second));
    expect(both.body).toEqual({ value: "L" });
    expect((await request(url).get("/get/color").set("Cookie", cookiePair(second))).body).toEqual({ value: "blue" });
  });

  test("a flash is shown once, after the redirect", async () => {
    const url = await startApp();
    const flashed = await request(url).post("/flash").type("form").send({ message: "Saved" });
    expect(flashed.status).toBe(302);
    const cookie = cookiePair(flashed);
    expect(Object.values(savedSessions())[0]!.flashedKeys).toEqual(["message"]);

    const shown = await request(url).get("/get/message").set("Cookie", cookie);
    expect(shown.body).toEqual({ value: "Saved" });
    expect(Object.values(savedSessions())[0]).toMatchObject({ content: [], flashedKeys: [] });

    const again = await request(url).get("/get/message").set("Cookie", cookiePair(shown));
    expect(again.body).toEqual({ value: null });
  });

  test("sessions survive re-creating the storage from the same file (a restart)", async () => {
    const before = await startApp();
    const saved = await request(before).post("/set").type("form").send({ key: "user", value: "Ada" });
    const cookie = cookiePair(saved);

    const after = await startApp(createJsonFileSessionStorage({ cookie: testCookie(), file }));
    const read = await request(after).get("/get/user").set("Cookie", cookie);
    expect(read.body).toEqual({ value: "Ada" });
  });

  test("the file is readable by its owner only", async () => {
    const url = await startApp();
    await request(url).post("/set").type("form").send({ key: "a", value: "b" });
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  test("the cookie carries the id encrypted, never the raw id or the data", async () => {
    const url = await startApp();
    const res = await request(url).post("/set").type("form").send({ key: "secret-note", value: "plaintext-value" });
    const cookie = setCookieFor(res)!;
    const [id] = Object.keys(savedSessions());
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(cookie).not.toContain(id);
    expect(cookie).not.toContain("plaintext-value");
    expect(cookie).toMatch(/^sid=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+;/); // a compact JWE with direct encryption
  });

  test("an unknown id, even inside a validly encrypted cookie, gets a fresh session under a new id", async () => {
    const url = await startApp();
    await request(url).post("/set").type("form").send({ key: "user", value: "Ada" });
    const [victimId] = Object.keys(savedSessions());

    // Someone who knows the secret (or an id from a wiped file) sends an id the store never issued.
    const planted = "planted-id-chosen-by-the-client";
    const forger: SessionStorage<unknown, undefined> = {
      async fromHeader() {
        return [{ content: new Map(), flashedKeys: new Set() }];
      },
      async toHeader() {
        return planted;
      },
    };
    // Seal it exactly as the app would (same cookie name and secret), through the public storage API.
    const sealer = withEncryptedCookies({ cookie: testCookie(), storage: forger });
    const [session, metadata] = await sealer.fromHeader(undefined);
    const forged = await sealer.toHeader(session, metadata!);
    const forgedPair = forged.split(";")[0]!;

    const read = await request(url).get("/get/user").set("Cookie", forgedPair);
    expect(read.body).toEqual({ value: null });

    const write = await request(url).post("/set").set("Cookie", forgedPair).type("form").send({ key: "user", value: "Eve" });
    const ids = Object.keys(savedSessions());
    expect(ids).not.toContain(planted); // the client's id was not adopted
    expect(ids).toHaveLength(2);
    const newId = ids.find((id) => id !== victimId)!;
    expect(newId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(savedSessions()[victimId!]!.content).toEqual([["user", "Ada"]]); // the other session is untouched
    expect(cookiePair(write)).not.toBe(forgedPair);
    const back = await request(url).get("/get/user").set("Cookie", cookiePair(write));
    expect(back.body).toEqual({ value: "Eve" });
  });

  test("a garbage or tampered cookie reads as a fresh session", async () => {
    const url = await startApp();
    const saved = await request(url).post("/set").type("form").send({ key: "user", value: "Ada" });
    const pair = cookiePair(saved);
    for (const cookie of ["sid=garbage", `${pair.slice(0, -4)}AAAA`, `sid=${"a".repeat(5000)}`]) {
      const read = await request(url).get("/get/user").set("Cookie", cookie);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ value: null });
    }
  });

  test("an expired session is forgotten even when its cookie is replayed", async () => {
    const url = await startApp(createJsonFileSessionStorage({ cookie: testCookie({ maxAge: 1 }), file }));
    const saved = await request(url).post("/set").type("form").send({ key: "user", value: "Ada" });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const read = await request(url).get("/get/user").set("Cookie", cookiePair(saved));
    expect(read.body).toEqual({ value: null });
    // The next write prunes it from the file.
    await request(url).post("/set").type("form").send({ key: "other", value: "x" });
    expect(Object.values(savedSessions()).map((session) => session.content)).toEqual([[["other", "x"]]]);
  });
});
