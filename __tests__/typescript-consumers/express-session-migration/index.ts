// A migration from express-session in progress: both middlewares mounted, old routes on
// express-session's req.session, new ones on ours through sessionOf(req).
import express from "express";
import expressSession from "express-session";
import { createMemorySessionStorage, sessions } from "remastered-sessions";

const app = express();
app.use(expressSession({ secret: "old-secret", resave: false, saveUninitialized: false }));
const session = sessions<{ user: { id: number } }, { message: string }>({
  storage: createMemorySessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
});
app.use(session);

app.get("/old", (req, res) => {
  req.session.regenerate(() => res.end()); // express-session's API, typed as theirs
});
app.get("/new", (req, res) => {
  session.sessionOf(req).set("user", { id: 1 }); // ours, typed by key
  session.sessionOf(req).flash("message", "Welcome back");
  res.end();
});
