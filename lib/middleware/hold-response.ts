import { ServerResponse } from "node:http";

/** What to run around the moment a response's headers go out. */
export type ResponseHooks = {
  /**
   * Runs once, just before the headers are sent; it may throw. It may return a promise:
   * until it settles, the response is held (every `writeHead`, `write` and `end` call is
   * kept, in order), so not a byte leaves before the session is saved.
   */
  beforeHeaders(): Promise<void> | undefined;
  /** Sets the headers `beforeHeaders` prepared, once the response can take them. */
  setHeaders(): void;
  /** Runs at `end()` when the headers left earlier (a streamed response); it may throw or return a promise. */
  beforeEndAfterHeaders(): Promise<void> | undefined;
  /**
   * A hook, or a held call replayed after it, failed. The held calls are dropped; when no
   * header has left (`res.headersSent`), the response is the error handler's to answer.
   */
  onError(error: unknown): void;
};

/** A response method the holder wraps, and the calls it keeps while holding. */
type ResponseMethod = "writeHead" | "write" | "end";
type HeldCall = { method: ResponseMethod; args: unknown[] };
type ResponseMethods = Record<ResponseMethod, (...args: unknown[]) => unknown>;

/**
 * - open: nothing sent yet; the first writeHead/write/end runs `beforeHeaders`.
 * - holding: `beforeHeaders` (or `beforeEndAfterHeaders`) is under way; calls are kept.
 * - sent: headers are out; `end` still runs `beforeEndAfterHeaders`.
 * - done: the end went out, or a hook failed: the wrappers pass every call through.
 */
type Phase = "open" | "holding" | "sent" | "done";

/**
 * The fields Node's `OutgoingMessage` decides with: `_header` (the headers as sent; any
 * truthy value makes `headersSent` true and `setHeader`/`writeHead` throw
 * ERR_HTTP_HEADERS_SENT), `_headerSent` (whether `_header` went on the wire), and
 * `finished` (set by `end()`; later writes are refused with ERR_STREAM_WRITE_AFTER_END).
 * They have kept these names and meanings since Node 0.x, and middlewares such as
 * `compression` read `_header` too.
 */
type OutgoingMessageState = { _header: string | null; _headerSent: boolean; finished: boolean };

/** Stands in `_header` while a response is held; it never reaches the wire, since `_headerSent` is true meanwhile. */
const heldHeaderPlaceholder = "(held by remastered-sessions until the session is saved)";

const nodeResponse = ServerResponse.prototype as unknown as ResponseMethods;

/**
 * Creates the wrappers of one middleware: `hold(res, hooks)` wraps the response's
 * `writeHead`, `write` and `end` (Express's `send`, `json`, `redirect`, `sendFile` and
 * `stream.pipe(res)` all end up there). The three wrappers are made once per middleware,
 * not per request; each finds its response's state under the middleware's own symbol.
 *
 * While a response is held it acts as sent, exactly as Node's own response would after
 * `writeHead`: `headersSent` is true, `setHeader` and a second `writeHead` throw, and after
 * `end()` later writes are refused. What would throw when replayed (an invalid status) is
 * checked when the call is made, so the error reaches the caller as it would unheld.
 */
export function createResponseHolder(): (res: ServerResponse, hooks: ResponseHooks) => void {
  const holdKey = Symbol("remastered-sessions.response-hold");
  type HeldResponse = ServerResponse & { [holdKey]: ResponseHold };

  const wrap = (method: ResponseMethod) =>
    function throughHold(this: HeldResponse, ...args: unknown[]): unknown {
      return this[holdKey].call(method, args);
    };
  const wrappers = { writeHead: wrap("writeHead"), write: wrap("write"), end: wrap("end") };

  return (res, hooks) => {
    const held = res as HeldResponse;
    held[holdKey] = new ResponseHold(res, hooks);
    res.writeHead = wrappers.writeHead as ServerResponse["writeHead"];
    res.write = wrappers.write as ServerResponse["write"];
    res.end = wrappers.end as ServerResponse["end"];
  };
}

/** The state of one response, from its first header-sending call to its end. */
class ResponseHold {
  readonly #res: ServerResponse;
  readonly #hooks: ResponseHooks;
  /** The methods as they were before us: Node's, or another middleware's wrappers. */
  readonly #real: ResponseMethods;
  #phase: Phase = "open";
  #held: HeldCall[] = [];
  /** `end()` is among the held calls: the response acts as finished. */
  #ended = false;
  /** A held `write` answered false: a stream waits for "drain", emitted when the calls are replayed. */
  #writerIsWaiting = false;
  /** The status the response had when it was held; an error handler changing it afterwards must not change what is sent. */
  #status: { code: number; message: string } | undefined;

  constructor(res: ServerResponse, hooks: ResponseHooks) {
    this.#res = res;
    this.#hooks = hooks;
    this.#real = { writeHead: res.writeHead, write: res.write, end: res.end } as unknown as ResponseMethods;
  }

  call(method: ResponseMethod, args: unknown[]): unknown {
    switch (this.#phase) {
      case "open":
        // headersSent here means someone called the prototype's method directly: too late to hold.
        if (this.#res.headersSent) {
          this.#phase = "sent";
          return this.call(method, args);
        }
        return this.#startSending(method, args);
      case "holding":
        return this.#whileHolding(method, args);
      case "sent":
        if (method === "end") return this.#endAfterHeaders(args);
        return this.#callReal(method, args);
      case "done":
        return this.#callReal(method, args);
    }
  }

  #startSending(method: ResponseMethod, args: unknown[]): unknown {
    const res = this.#res;
    // What Node would refuse is refused now, before the session is saved for a response that cannot go out.
    if (method === "writeHead") {
      assertValidStatus(args[0], args[1]);
      // Headers passed to writeHead() would otherwise be applied after the hook and replace
      // what it sets (our Set-Cookie): apply them first, as Node would, and keep the status.
      args = applyWriteHeadHeaders(res, args);
    } else {
      assertValidStatus(res.statusCode, res.statusMessage);
    }
    let pending: Promise<void> | undefined;
    try {
      pending = this.#hooks.beforeHeaders();
      if (!pending) this.#hooks.setHeaders();
    } catch (error) {
      // The call that started it is dropped: the error handler answers instead.
      this.#fail(error);
      return method === "write" ? false : res;
    }
    if (!pending) {
      this.#phase = "sent";
      return this.#callReal(method, args);
    }
    this.#hold({ method, args }, true);
    pending.then(() => this.#release(), (error: unknown) => this.#fail(error));
    return this.#heldResult(method);
  }

  #whileHolding(method: ResponseMethod, args: unknown[]): unknown {
    // After end(), or a second writeHead: refused by Node itself, exactly as on a sent response.
    if (this.#ended || method === "writeHead") return nodeResponse[method].apply(this.#res, args);
    this.#held.push({ method, args });
    if (method === "end") this.#markEnded();
    return this.#heldResult(method);
  }

  #endAfterHeaders(args: unknown[]): unknown {
    let pending: Promise<void> | undefined;
    try {
      pending = this.#hooks.beforeEndAfterHeaders();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (!pending) {
      this.#phase = "done";
      return this.#callReal("end", args);
    }
    this.#hold({ method: "end", args }, false);
    pending.then(() => this.#release(), (error: unknown) => this.#fail(error));
    return this.#res;
  }

  /** Starts holding: the response acts as sent (and, once `end` is held, as finished). */
  #hold(call: HeldCall, beforeHeaders: boolean): void {
    const res = this.#res;
    const state = res as unknown as OutgoingMessageState;
    this.#phase = "holding";
    this.#held = [call];
    this.#status = { code: res.statusCode, message: res.statusMessage };
    if (beforeHeaders) {
      state._header = heldHeaderPlaceholder;
      state._headerSent = true;
    }
    if (call.method === "end") this.#markEnded();
  }

  #markEnded(): void {
    this.#ended = true;
    (this.#res as unknown as OutgoingMessageState).finished = true;
  }

  /** Gives the response back to Node as it was when held. */
  #unlock(): void {
    const res = this.#res;
    const state = res as unknown as OutgoingMessageState;
    if (state._header === heldHeaderPlaceholder) {
      state._header = null;
      state._headerSent = false;
    }
    state.finished = false;
    if (this.#status) {
      res.statusCode = this.#status.code;
      res.statusMessage = this.#status.message;
    }
  }

  /** The hook is done: the held calls go out, in order, with the headers it prepared. */
  #release(): void {
    const calls = this.#held;
    this.#held = [];
    this.#unlock();
    // Sent, not done: a replayed end() reaches Node's writeHead through our wrapper, which must pass it on.
    this.#phase = this.#ended ? "done" : "sent";
    try {
      if (this.#res.headersSent === false) this.#hooks.setHeaders();
      for (const { method, args } of calls) this.#callReal(method, args);
    } catch (error) {
      this.#fail(error);
      return;
    }
    const res = this.#res;
    // Only headers were held (writeHead, flushHeaders: a stream of events about to start):
    // send them now rather than with the first write, which may be a while away.
    if (calls.every(({ method }) => method === "writeHead") && !(res as unknown as OutgoingMessageState)._headerSent) res.flushHeaders();
    if (this.#writerIsWaiting && !res.writableEnded && !res.writableNeedDrain) res.emit("drain");
  }

  #fail(error: unknown): void {
    this.#held = [];
    this.#unlock();
    this.#phase = "done";
    // The handler believes its response went out: a write it makes after the error page
    // must not crash the process with an unhandled 'error' event.
    this.#res.on("error", ignore);
    this.#hooks.onError(error);
  }

  #heldResult(method: ResponseMethod): unknown {
    // While held, `write` answers false so that streams (pipe, sendFile) wait for "drain".
    if (method !== "write") return this.#res;
    this.#writerIsWaiting = true;
    return false;
  }

  #callReal(method: ResponseMethod, args: unknown[]): unknown {
    return this.#real[method].apply(this.#res, args);
  }
}

/**
 * Throws what Node's `writeHead` throws for this status and message (a RangeError with code
 * ERR_HTTP_INVALID_STATUS_CODE, a TypeError with code ERR_INVALID_CHAR), so that a held
 * response fails in the handler, as an unheld one does, not later when it is replayed.
 */
function assertValidStatus(statusCode: unknown, statusMessage: unknown): void {
  const code = (statusCode as number) | 0;
  if (code < 100 || code > 999) {
    throw Object.assign(new RangeError(`Invalid status code: ${String(statusCode)}`), { code: "ERR_HTTP_INVALID_STATUS_CODE" });
  }
  if (typeof statusMessage === "string" && invalidHeaderCharacter.test(statusMessage)) {
    throw Object.assign(new TypeError("Invalid character in statusMessage"), { code: "ERR_INVALID_CHAR" });
  }
}

// What Node's checkInvalidHeaderChar refuses: anything but tab, visible ASCII, space and obs-text.
const invalidHeaderCharacter = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Applies the headers of `writeHead(status, [statusMessage], [headers])` to `res` with
 * Node's own semantics, and returns the arguments without them. Node takes the headers
 * from the third argument, or from the second when no status message string is given
 * (so `writeHead(200, undefined, headers)` works); an object sets, a flat raw array
 * replaces then appends.
 */
function applyWriteHeadHeaders(res: ServerResponse, args: unknown[]): unknown[] {
  const hasMessage = typeof args[1] === "string";
  const headers = hasMessage ? args[2] : (args[2] ?? args[1]);
  const rest = hasMessage ? args.slice(0, 2) : args.slice(0, 1);
  if (headers === null || typeof headers !== "object") return rest;
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) {
      for (const [name, value] of headers as [string, string | string[]][]) if (name) res.setHeader(name, value);
    } else {
      if (headers.length % 2 !== 0) {
        throw Object.assign(new TypeError("The argument 'headers' is invalid: a flat array of names and values must have an even length."), {
          code: "ERR_INVALID_ARG_VALUE",
        });
      }
      for (let at = 0; at < headers.length; at += 2) res.removeHeader(String(headers[at]));
      for (let at = 0; at < headers.length; at += 2) res.appendHeader(String(headers[at]), headers[at + 1] as string);
    }
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (name && value !== undefined) res.setHeader(name, value as string | number | readonly string[]);
    }
  }
  return rest;
}

function ignore(): void {}
