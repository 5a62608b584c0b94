/**
 * The client side of one measurement: open the sessions, probe them, then load the server
 * with autocannon. This runs in the harness process, never in the server's.
 */
import autocannon from "autocannon";
import { checkHeader } from "./config.js";
import type { BenchRequest, Workload } from "./workloads.js";

/** Browsers keep a cookie of at most this many bytes (name, value and attributes: RFC 6265, 6.1). */
export const browserCookieLimit = 4096;

export class SetupError extends Error {
  constructor(
    message: string,
    /** The session does not fit in a cookie: the library refused it, or browsers would. */
    readonly tooLarge: boolean,
  ) {
    super(message);
  }
}

const baseUrl = (port: number) => `http://127.0.0.1:${port}`;

/** `name=value` of every `Set-Cookie`, as a browser would send them back. */
function cookieHeaderFrom(setCookies: string[]): string {
  return setCookies.map((setCookie) => setCookie.split(";", 1)[0]!.trim()).join("; ");
}

const setCookieBytes = (setCookies: string[]) => setCookies.reduce((sum, value) => sum + value.length, 0);

// Size errors of the libraries: ours (CookieTooLargeError) and iron-session's own message.
const cookieTooLargePattern = /ERR_SESSION_COOKIE_TOO_LARGE|CookieTooLargeError|cookie length is too big/i;

/**
 * Opens `count` sessions (one per connection) through `POST /setup/:bytes` and returns the
 * `Cookie` header each connection sends. Bare Express sets no cookie: its headers are empty.
 */
export async function openSessions(port: number, workload: Workload, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl(port)}/setup/${workload.userBytes}`, {
      method: "POST",
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.text();
    if (response.status !== 200) {
      throw new SetupError(`setup answered ${response.status}: ${body.slice(0, 300)}`, cookieTooLargePattern.test(body));
    }
    const setCookies = response.headers.getSetCookie();
    const tooBig = setCookies.find((value) => value.length > browserCookieLimit);
    if (tooBig) {
      throw new SetupError(`setup sent a ${tooBig.length}-byte Set-Cookie: browsers drop cookies over ${browserCookieLimit} bytes`, true);
    }
    cookies.push(cookieHeaderFrom(setCookies));
  }
  return cookies;
}

export type Probe = {
  /** Bytes of the `Cookie` request header's value. */
  cookieBytes: number;
  /** Bytes of the `Set-Cookie` values on a write (sum over cookies), undefined without a write route. */
  setCookieWriteBytes: number | undefined;
  /** Bytes of the `Set-Cookie` values on a read-only request, undefined without a read route. */
  setCookieReadBytes: number | undefined;
};

/**
 * Sends each distinct request of the workload once with the first session's cookie and
 * checks the answer carries the session (status 200 and `x-session-user: 42`).
 */
export async function probe(port: number, workload: Workload, cookie: string): Promise<Probe> {
  const result: Probe = { cookieBytes: cookie.length, setCookieWriteBytes: undefined, setCookieReadBytes: undefined };
  const distinct = new Map<string, BenchRequest>();
  for (const request of workload.cycle) distinct.set(`${request.method} ${request.path}`, request);
  for (const request of distinct.values()) {
    const response = await fetch(`${baseUrl(port)}${request.path}`, {
      method: request.method,
      headers: cookie ? { cookie } : {},
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.text();
    if (response.status !== 200 || response.headers.get(checkHeader) === null) {
      throw new SetupError(
        `probe ${request.method} ${request.path} answered ${response.status} ` +
          `${checkHeader}=${response.headers.get(checkHeader)}: ${body.slice(0, 300)}`,
        cookieTooLargePattern.test(body),
      );
    }
    const setCookies = response.headers.getSetCookie();
    const tooBig = setCookies.find((value) => value.length > browserCookieLimit);
    if (tooBig) {
      throw new SetupError(`${request.path} sent a ${tooBig.length}-byte Set-Cookie: browsers drop cookies over ${browserCookieLimit} bytes`, true);
    }
    const bytes = setCookieBytes(setCookies);
    if (request.method === "GET") result.setCookieReadBytes = bytes;
    else result.setCookieWriteBytes = bytes;
  }
  return result;
}

export type LoadResult = {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Percentiles of the 2xx responses' latency, in milliseconds (from autocannon's per-response times). */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
};

/**
 * Loads the server for `warmup` seconds (discarded), then `duration` seconds (measured),
 * with `connections` connections; connection i sends `cookies[i]` on every request.
 */
export async function loadServer(options: {
  port: number;
  workload: Workload;
  cookies: string[];
  connections: number;
  duration: number;
  warmup: number;
}): Promise<LoadResult> {
  const { port, workload, cookies, connections, duration, warmup } = options;
  let nextClient = 0;
  const requestsWith = (cookie: string | undefined): autocannon.Request[] =>
    workload.cycle.map(({ method, path }) => ({ method, path, headers: cookie ? { cookie } : {} }));

  const settings: autocannon.Options & { warmup?: { connections: number; duration: number } } = {
    url: baseUrl(port),
    connections,
    duration,
    // The run stops at the first sample tick after `duration`: fine-grained ticks keep it close.
    sampleInt: 100,
    timeout: 10,
    requests: requestsWith(cookies[0]),
    // Each connection carries its own session. autocannon cannot follow each response's
    // Set-Cookie per connection, so a connection sends the cookie of its setup request on
    // every request. For the cookie-based stores (ours, cookie-session, iron-session) that
    // means each request re-reads the same session: the write's work (decrypt, change,
    // encrypt) is the same as with a browser that follows Set-Cookie. For express-session
    // the cookie holds only the id, which never changes.
    setupClient(client) {
      client.setRequests(requestsWith(cookies[nextClient++ % Math.max(cookies.length, 1)]));
    },
    ...(warmup > 0 ? { warmup: { connections, duration: warmup } } : {}),
  };

  const latencies: number[] = [];
  // Without a callback autocannon returns its event emitter, which is also a promise of the
  // result (the types only say the latter); only this form runs the warm-up.
  const instance = autocannon(settings) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  // The instance returned is the measured run's: warm-up responses are not reported here.
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count ?? 0;
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}
