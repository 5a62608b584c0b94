// The story every app of the package check must tell over real HTTP: a visitor signs in
// through a form, follows the redirect, sees the flash once, and stays signed in.
import assert from "node:assert/strict";

/** Runs the story against an app listening at `origin`; throws at the first step that differs. */
export async function loginRoundTrip(origin: string): Promise<void> {
  const firstVisit = await fetch(`${origin}/`);
  assert.equal(firstVisit.status, 200, "GET / answers 200");
  assert.match(await firstVisit.text(), /Not signed in/, "a new visitor is not signed in");
  assert.deepEqual(firstVisit.headers.getSetCookie(), [], "a request that does not write the session gets no cookie");

  const login = await fetch(`${origin}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "name=Ada",
    redirect: "manual",
  });
  assert.equal(login.status, 303, "the login answers with a redirect");
  assert.equal(login.headers.get("location"), "/", "the redirect leads to /");
  let cookie = sessionCookie(login.headers.getSetCookie());
  assert.ok(cookie, "the redirect carries the session cookie");
  assert.match(cookie.attributes, /HttpOnly/i, "the cookie is HttpOnly");
  assert.match(cookie.attributes, /Secure/i, "the cookie is Secure");
  assert.match(cookie.attributes, /SameSite=Lax/i, "the cookie is SameSite=Lax");
  assert.match(cookie.attributes, /Path=\//i, "the cookie's path is /");

  const landing = await fetch(`${origin}/`, { headers: { cookie: cookie.pair } });
  const landingPage = await landing.text();
  assert.match(landingPage, /Welcome back, Ada/, "the page the redirect leads to shows the flash");
  assert.match(landingPage, /Signed in as Ada/, "the page the redirect leads to is signed in");
  cookie = sessionCookie(landing.headers.getSetCookie()) ?? cookie;

  const reload = await fetch(`${origin}/`, { headers: { cookie: cookie.pair } });
  const reloadedPage = await reload.text();
  assert.doesNotMatch(reloadedPage, /Welcome back/, "a reload no longer shows the flash");
  assert.match(reloadedPage, /Signed in as Ada/, "a reload is still signed in");
}

/** The `sid` cookie among Set-Cookie headers: its `name=value` pair and its attributes. */
function sessionCookie(setCookies: string[]): { pair: string; attributes: string } | undefined {
  const header = setCookies.find((value) => value.startsWith("sid="));
  if (header === undefined) return undefined;
  const [pair = "", ...attributes] = header.split(";");
  return { pair, attributes: attributes.join(";") };
}
