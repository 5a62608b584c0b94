// examples/api-tokens.ts, as a client uses it: log in, get a bearer token in a response header,
// send it back as `Authorization: Bearer <token>`, log out and find the token dead.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import { createTokenApi, runTokenClient, tokenHeader } from "../examples/api-tokens.js";
import { testSecret } from "./fixtures.js";

describe("the API-token example", () => {
  test("login answers with a token and no cookie; the token then reads the session as a bearer token", async () => {
    const app = createTokenApi({ secret: testSecret });
    const login = await request(app).post("/api/login").send({ name: "Ada" });
    expect(login.status).toBe(201);
    expect(login.headers["set-cookie"]).toBeUndefined();
    const token = login.headers[tokenHeader] as string;
    expect(token).toMatch(/^[\w.-]{40,}$/); // a bare token: no cookie attributes

    await request(app).post("/api/notes").set("Authorization", `Bearer ${token}`).send({ text: "Buy milk" }).expect(201);
    const me = await request(app).get("/api/me").set("Authorization", `Bearer ${token}`);
    expect(me.body).toEqual({ user: { name: "Ada" }, notes: ["Buy milk"] });
  });

  test("without a token, or with a made-up one, the API asks to log in", async () => {
    const app = createTokenApi({ secret: testSecret });
    expect((await request(app).get("/api/me")).status).toBe(401);
    expect((await request(app).get("/api/me").set("Authorization", "Bearer not-a-token")).status).toBe(401);
  });

  test("logout sends an empty token, and the old token no longer logs in", async () => {
    const app = createTokenApi({ secret: testSecret });
    const token = (await request(app).post("/api/login").send({ name: "Ada" })).headers[tokenHeader] as string;
    const logout = await request(app).post("/api/logout").set("Authorization", `Bearer ${token}`);
    expect(logout.headers[tokenHeader]).toBe("");
    expect((await request(app).get("/api/me").set("Authorization", `Bearer ${token}`)).status).toBe(401);
  });

  describe("the client it runs with `npm run example:api-tokens`, over real HTTP with fetch", () => {
    let server: Server;
    let baseUrl: string;
    beforeAll(async () => {
      server = createTokenApi({ secret: testSecret }).listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    test("walks through login, a note, its session and logout, and the leaked token is refused after", async () => {
      const steps = await runTokenClient(baseUrl);
      expect(steps.map(({ step, status }) => [step, status])).toEqual([
        ["log in", 201],
        ["add a note with the token", 201],
        ["read my session with the token", 200],
        ["log out", 200],
        ["use the old token after logout", 401],
      ]);
      expect(steps[2]!.body).toEqual({ user: { name: "Ada" }, notes: ["Buy milk"] });
    });
  });
});
