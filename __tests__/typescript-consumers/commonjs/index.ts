// A CommonJS project ("type": "commonjs") with "module": "nodenext": this import compiles to
// require("remastered-sessions"), which Node 20.19+ loads although the package is ESM-only.
import http from "node:http";
import { createCookieSessionStorage, sessions } from "remastered-sessions";

const session = sessions<{ visits: number }>({
  storage: createCookieSessionStorage({ cookie: { name: "sid", secret: process.env.SESSION_SECRET! } }),
});

http.createServer((req, res) => {
  session(req, res, (error) => {
    if (error) return void res.end("Something went wrong.");
    const visits = (session.sessionOf(req).get("visits") ?? 0) + 1;
    session.sessionOf(req).set("visits", visits);
    res.end(`visit ${visits}`);
  });
});
