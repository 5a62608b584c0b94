// An Express 5 ESM app in TypeScript, compiled with `tsc --strict --module nodenext`: typed
// session keys through `sessionOf(req)`.
import express from "express";
import type { AddressInfo } from "node:net";
import { createCookieSessionStorage, createMemorySessionStorage, sessions } from "remastered-sessions";

type User = { name: string };
const cookie = { name: "sid", secret: process.env.SESSION_SECRET ?? "" };
const storage =
  process.env.SESSION_STORAGE === "memory" ? createMemorySessionStorage({ cookie }) : createCookieSessionStorage({ cookie });
const session = sessions<{ user: User }, { message: string }>({ storage });

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session);

app.get("/", (req, res) => {
  const message = session.sessionOf(req).get("message");
  const user = session.sessionOf(req).get("user");
  res.send(`${message ? `<p>${message}</p>` : ""}<p>${user ? `Signed in as ${user.name}` : "Not signed in"}</p>`);
});

app.post("/login", (req, res) => {
  const name = String(req.body.name);
  session.sessionOf(req).regenerate();
  session.sessionOf(req).set("user", { name });
  session.sessionOf(req).flash("message", `Welcome back, ${name}`);
  res.redirect(303, "/");
});

const server = app.listen(0, "127.0.0.1", () => console.log(`listening on ${(server.address() as AddressInfo).port}`));
