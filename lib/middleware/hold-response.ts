import type { ServerResponse } from "node:http";

/** What to run around the moment a response's headers go out. */
export type ResponseHooks = {
  /**
   * Runs once, just before the headers are sent. It may return a promise: until it
   * settles, every `writeHead`, `write` and `end` call is held back, in order, so not
   * a byte leaves before the session is saved. `undefined` means "nothing to wait for".
   */
  beforeHeaders(): Promise<void> | undefined;
  /** Runs at `end()` when the headers left earlier (a streamed response). */
  beforeEndAfterHeaders(): Promise<void> | undefined;
  /** A hook failed: the held calls are dropped and the response is the handler's to answer. */
  onError(error: unknown): void;
};

type ResponseMethod = "writeHead" | "write" | "end";
type HeldCall = { method: ResponseMethod; args: unknown[] };
type Phase = "before-headers" | "holding" | "headers-sent" | "finished";

/**
 * Wraps `res.writeHead`, `res.write` and `res.end` (Express's `send`, `json`,
 * `redirect`, `sendFile` and `stream.pipe(res)` all end up there). The wrappers stay
 * installed and become pass-throughs: a middleware that wrapped them after us keeps working.
 */
export function holdResponse(res: ServerResponse, hooks: ResponseHooks): void {
  const real = { writeHead: res.writeHead, write: res.write, end: res.end };
  let phase: Phase = "before-headers";
  let held: HeldCall[] = [];
  let writerWasAskedToWait = false;

  const callReal = (method: ResponseMethod, args: unknown[]): unknown =>
    (real[method] as (...args: unknown[]) => unknown).apply(res, args);

  // While held, `write` answers false so that streams (pipe, sendFile) wait for "drain".
  const heldResult = (method: ResponseMethod): unknown => {
    if (method !== "write") return res;
    writerWasAskedToWait = true;
    return false;
  };

  const release = () => {
    const calls = held;
    held = [];
    phase = "headers-sent";
    // Our wrappers are pass-throughs now, so a replayed end() reaches the real writeHead through them.
    for (const { method, args } of calls) callReal(method, args);
    if (writerWasAskedToWait && !res.writableEnded && !res.writableNeedDrain) res.emit("drain");
  };

  const fail = (error: unknown) => {
    held = [];
    phase = "finished";
    hooks.onError(error);
  };

  const startSendingHeaders = (method: ResponseMethod, args: unknown[]): unknown => {
    // Headers passed to writeHead() would otherwise be applied after the hook and replace
    // what it set (our Set-Cookie): apply them first, as Node would, and keep the status.
    if (method === "writeHead") args = applyWriteHeadHeaders(res, args);
    const pending = attempt(() => hooks.beforeHeaders());
    if (!pending) {
      phase = "headers-sent";
      return callReal(method, args);
    }
    phase = "holding";
    held = [{ method, args }];
    pending.then(release, fail);
    return heldResult(method);
  };

  const endAfterHeaders = (args: unknown[]): unknown => {
    const pending = attempt(() => hooks.beforeEndAfterHeaders());
    phase = "finished";
    if (!pending) return callReal("end", args);
    pending.then(() => callReal("end", args), fail);
    return res;
  };

  const wrap = (method: ResponseMethod) =>
    function wrappedResponseMethod(...args: unknown[]): unknown {
      switch (phase) {
        case "holding":
          held.push({ method, args });
          return heldResult(method);
        case "before-headers":
          // headersSent here means someone called the prototype's method directly: too late to hold.
          if (!res.headersSent) return startSendingHeaders(method, args);
          phase = "headers-sent";
          return method === "end" ? endAfterHeaders(args) : callReal(method, args);
        case "headers-sent":
          return method === "end" ? endAfterHeaders(args) : callReal(method, args);
        case "finished":
          return callReal(method, args);
      }
    };

  res.writeHead = wrap("writeHead") as ServerResponse["writeHead"];
  res.write = wrap("write") as ServerResponse["write"];
  res.end = wrap("end") as ServerResponse["end"];
}

/**
 * Applies the headers of `writeHead(status, [statusMessage], [headers])` to `res` with
 * Node's own semantics (an object sets, a flat raw array replaces then appends), and
 * returns the arguments without them.
 */
function applyWriteHeadHeaders(res: ServerResponse, args: unknown[]): unknown[] {
  const index = typeof args[1] === "string" ? 2 : 1;
  const headers = args[index];
  if (headers === null || typeof headers !== "object") return args;
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) {
      for (const [name, value] of headers as [string, string | string[]][]) if (name) res.setHeader(name, value);
    } else {
      for (let at = 0; at < headers.length; at += 2) res.removeHeader(String(headers[at]));
      for (let at = 0; at < headers.length; at += 2) res.appendHeader(String(headers[at]), headers[at + 1] as string);
    }
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (name && value !== undefined) res.setHeader(name, value as string | number | readonly string[]);
    }
  }
  return args.slice(0, index);
}

/** Runs `hook`, turning a synchronous throw into a rejected promise. */
function attempt(hook: () => Promise<void> | undefined): Promise<void> | undefined {
  try {
    return hook();
  } catch (error) {
    return Promise.reject(error);
  }
}
