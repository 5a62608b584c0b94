/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS app: require() is what it checks */
// An Express 4 CommonJS app: require() of the ESM-only package (Node 20.19+ and 22.12+).
const express = require("express");
const { sessions, createCookieSessionStorage, createMemorySessionStorage } = require("remastered-sessions");

const cookie = { name: "sid", secret: process.env.SESSION_SECRET };
const storage =
  process.env.SESSION_STORAGE === "memory" ? createMemorySessionStorage({ cookie }) : createCookieSessionStorage({ cookie });

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(sessions({ storage }));

app.get("/", (req, res) => {
  const message = req.session.get("message");
  const user = req.session.get("user");
  res.send(`${message ? `<p>${message}</p>` : ""}<p>${user ? `Signed in as ${user.name}` : "Not signed in"}</p>`);
});

app.post("/login", (req, res) => {
  req.session.regenerate();
  req.session.set("user", { name: req.body.name });
  req.session.flash("message", `Welcome back, ${req.body.name}`);
  res.redirect(303, "/");
});

const server = app.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
