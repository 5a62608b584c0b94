import type { IncomingHttpHeaders } from "node:http";
import { SessionConfigError } from "./errors.js";

/**
 * A Node/Express request (`req.headers` object) or a Fetch API `Request` (`headers.get`).
 *
 * @example
 * const getSession = createSessionStore(storage);
 * await getSession(req);                                       // node:http or Express: req.headers
 * await getSession(new Request("http://x/", { headers: { cookie } })); // Fetch API: headers.get
 */
export type RequestWithHeaders =
  | {
      /** Node's header object (`req.headers`): names lower-cased. */
      headers: IncomingHttpHeaders;
    }
  | {
      /** A Fetch API `Headers`. */
      headers: {
        /** The header's value, or `null` when it is absent. */
        get(name: string): string | null;
      };
    };

const headerNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks a header name option at start-up and returns it lower-cased, as Node stores it. */
export function validateHeaderName(option: string, name: unknown): string {
  if (typeof name !== "string" || !headerNamePattern.test(name)) {
    throw new SessionConfigError(
      option,
      `expected an HTTP header name such as "cookie" or "authorization", got ${JSON.stringify(name)}.`,
    );
  }
  return name.toLowerCase();
}

/** The raw value of one request header, or `undefined` when it is absent. */
export function readRequestHeader(request: RequestWithHeaders, lowerCaseName: string): string | undefined {
  const { headers } = request;
  if (typeof headers.get === "function") {
    return (headers.get as (name: string) => string | null)(lowerCaseName) ?? undefined;
  }
  const value = (headers as IncomingHttpHeaders)[lowerCaseName];
  // Node joins repeated Cookie headers itself; other repeated headers arrive as arrays.
  return Array.isArray(value) ? value.join("; ") : value;
}
