// A plain node:http app: the middleware as a (req, res, next) function, and its `next` contract.
import http from "node:http";
import { URLSearchParams } from "node:url";
import { createCookieSessionStorage, createMemorySessionStorage, sessions } from "remastered-sessions";

const cookie = { name: "sid", secret: process.env.SESSION_SECRET };
const storage =
  process.env.SESSION_STORAGE === "memory" ? createMemorySessionStorage({ cookie }) : createCookieSessionStorage({ cookie });
const session = sessions({ storage });

async function route(req, res) {
  if (req.method === "POST" && req.url === "/login") {
    let body = "";
    for await (const chunk of req) body += chunk;
    const name = new URLSearchParams(body).get("name");
    req.session.regenerate();
    req.session.set("user", { name });
    req.session.flash("message", `Welcome back, ${name}`);
    res.writeHead(303, { location: "/" }).end();
    return;
  }
  const message = req.session.get("message");
  const user = req.session.get("user");
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(`${message ? `<p>${message}</p>` : ""}<p>${user ? `Signed in as ${user.name}` : "Not signed in"}</p>`);
}

const server = http.createServer((req, res) => {
  session(req, res, (error) => {
    if (error) {
      if (res.headersSent) return void res.destroy();
      res.statusCode = 500;
      return void res.end("Something went wrong.");
    }
    route(req, res).catch(() => res.destroy());
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
