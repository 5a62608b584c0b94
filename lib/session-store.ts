import type { MaybePromise } from "./maybe-promise.js";
import {
  forgetSessionIn,
  readSessionFrom,
  regenerateIn,
  sessionGone,
  writeSessionTo,
  type SessionGone,
  type SessionStorage,
  type SessionWithMetadata,
  type StoredSession,
} from "./session-storage.js";
import { defaultStorageTimeout, validateTimeout, withinTimeout } from "./storage-timeout.js";

/**
 * Keys and value types of a session, e.g. `{ user: User; visits: number }` (a type or an interface).
 *
 * @example
 * type Data = { user: { id: number; name: string }; visits: number };
 * const session = sessions<Data>({ storage }); // a SessionRecord of your keys
 */
export type SessionRecord<Value> = Record<string, Value>;

/**
 * The session of one request: a `Map`-like API plus `flash` and `commit`
 * (the `SessionStore<Value>` of Remastered's sessions API).
 *
 * `Data` and `Flash` are optional: name your keys once and `get`, `set` and
 * `flash` are typed, with no declaration merging.
 *
 * @example
 * const session = await intoSessionStore(storage, request.headers.get("cookie") ?? undefined);
 * session.set("user", { id: 1 });
 * session.flash("message", "Welcome back");
 * response.headers.append("Set-Cookie", await session.commit());
 */
export interface SessionStore<
  Value = unknown,
  // `object`, not Record<string, ...>: interfaces have no index signature and must fit too.
  Data extends object = SessionRecord<Value>,
  Flash extends object = Data,
> {
  /** Whether `key` holds a value. Never consumes a flash. */
  has(key: string): boolean;
  /**
   * The value of `key`. Reading a value flashed by an earlier request marks it as
   * shown: this request's commit removes it.
   */
  get<Key extends keyof Data & string>(key: Key): Data[Key] | undefined;
  /** The value of a flash key: shown once, then removed by this request's commit. */
  get<Key extends keyof Flash & string>(key: Key): Flash[Key] | undefined;
  /** Stores a lasting value. Setting a flashed key makes it an ordinary value. */
  set<Key extends keyof Data & string>(key: Key, value: Data[Key]): void;
  /** Removes `key`, lasting or flashed. */
  unset(key: (keyof Data | keyof Flash) & string): void;
  /** Stores a value that a later request reads once, e.g. a message shown after a redirect. */
  flash<Key extends keyof Flash & string>(key: Key, value: Flash[Key]): void;
  /**
   * Persists the session through its storage and resolves to the response header value
   * (a whole `Set-Cookie` value for cookie-based storages), or to `""` when there is nothing
   * to send (an empty session that a server-side storage does not keep, or one that ended
   * elsewhere while this request ran). Nothing is written twice: a later call with nothing
   * new since resolves to the same header again. The Express middleware calls it for you.
   */
  commit(): Promise<string>;
  /**
   * Ends the session at the next commit: its data is removed from the storage and
   * the response deletes the cookie. Values set after `destroy()` start a new session.
   */
  destroy(): void;
  /**
   * Moves the session to a new identity at the next commit (a new id, a new cookie),
   * keeping its data, and kills the old identity in the storage. Call it at login and
   * at every privilege change, so that an id planted or seen before cannot ride along.
   */
  regenerate(): void;
}

/**
 * Options of a session store.
 *
 * @example
 * const session = await intoSessionStore(storage, req.headers.cookie, { storageTimeout: 500 });
 */
export type SessionStoreOptions = {
  /**
   * Milliseconds a storage call may take before it fails with `SessionStorageTimeoutError`.
   * Default 3000; `Infinity` for no bound.
   */
  storageTimeout?: number;
};

/**
 * Opens one session from a raw request header (`intoSessionStore` of Remastered's sessions API).
 *
 * @example
 * const session = await intoSessionStore(storage, req.headers.cookie);
 * session.get("user");
 */
export async function intoSessionStore<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  header?: string,
  options: SessionStoreOptions = {},
): Promise<SessionStore<Value>> {
  return TrackedSessionStore.openMaybeSync(storage, header, validateTimeout("storageTimeout", options.storageTimeout, defaultStorageTimeout));
}

/** A pending `destroy()` or `regenerate()`; a new object for each call, so a call made during a commit is not lost. */
type IdentityChange = { kind: "destroy" | "regenerate" };

/**
 * The `SessionStore` implementation. It tracks what the request changed, so the
 * middleware commits only when something must be persisted, and at most once per change.
 */
export class TrackedSessionStore<Value, Metadata> implements SessionStore<Value> {
  readonly #storage: SessionStorage<Value, Metadata>;
  readonly #stored: StoredSession<Value>;
  readonly #timeout: number;
  /** Replaced when destroy() or regenerate() gives the session a new identity. */
  #metadata: Metadata;
  /** Cleared only once the storage has carried it out: a failed destroy() is retried, never dropped. */
  #identityChange: IdentityChange | undefined;

  // Both sets are created on first use: most requests flash nothing and read no flash.
  /** Flashes set during this request: readable here without being consumed. */
  #flashedHere: Set<string> | undefined;
  /** Flashes of earlier requests read here: the next commit removes them. */
  #flashesShown: Set<string> | undefined;
  /** Counts changes; a commit records the count it wrote, so a change made while it runs stays pending. */
  #version = 0;
  #committedVersion = 0;
  /**
   * Whether the application may hold an object of this session (from get, set or flash)
   * and so may have changed it in place. Until then there is nothing to compare at commit.
   */
  #mayBeChangedInPlace = false;
  /**
   * The content as JSON before the application could change anything in place (taken
   * when it first gets an object) and after each commit; only for storages that cannot
   * tell themselves (no `hasChanged`).
   */
  #fingerprint: string | undefined;
  #lastCommit: Promise<string> | undefined;
  #commitsUnderWay = 0;
  /** The header of the latest commit: `""` when it had nothing to send. */
  #committedHeader: string | undefined;

  private constructor(storage: SessionStorage<Value, Metadata>, stored: StoredSession<Value>, metadata: Metadata, timeout: number) {
    this.#storage = storage;
    this.#stored = stored;
    this.#metadata = metadata;
    this.#timeout = timeout;
  }

  /**
   * Opens the session `header` refers to: synchronously when the storage answers at once
   * (see `fromHeaderMaybeSync`), else a promise bounded by `timeout`. It may throw.
   */
  static openMaybeSync<Value, Metadata>(
    storage: SessionStorage<Value, Metadata>,
    header: string | undefined,
    timeout = defaultStorageTimeout,
  ): MaybePromise<TrackedSessionStore<Value, Metadata>> {
    const loaded = readSessionFrom(storage, header);
    if (loaded instanceof Promise) {
      return withinTimeout(loaded, timeout, "read").then((result) => TrackedSessionStore.#fromLoaded(storage, result, timeout));
    }
    return TrackedSessionStore.#fromLoaded(storage, loaded, timeout);
  }

  static #fromLoaded<Value, Metadata>(
    storage: SessionStorage<Value, Metadata>,
    [stored, metadata]: SessionWithMetadata<Value, Metadata>,
    timeout: number,
  ): TrackedSessionStore<Value, Metadata> {
    if (!isStoredSession(stored)) {
      throw new TypeError(
        "The session storage's fromHeader() must resolve to [{ content: Map, flashedKeys: Set }, metadata?]; " +
          `it resolved to ${describe(stored)}.`,
      );
    }
    return new TrackedSessionStore(storage, stored, metadata as Metadata, timeout);
  }

  has(key: string): boolean {
    return this.#stored.content.has(key);
  }

  get(key: string): Value | undefined {
    const { content, flashedKeys } = this.#stored;
    if (flashedKeys.has(key) && !this.#flashedHere?.has(key) && !this.#flashesShown?.has(key)) {
      (this.#flashesShown ??= new Set()).add(key);
      this.#version++;
    }
    const value = content.get(key);
    if (!this.#mayBeChangedInPlace && isObject(value)) {
      this.#fingerprint = this.#fingerprintIfNeeded();
      this.#mayBeChangedInPlace = true;
    }
    return value;
  }

  set(key: string, value: Value): void {
    const { content, flashedKeys } = this.#stored;
    // The same string or number again changes nothing: no write, no cookie.
    if (!isObject(value) && !flashedKeys.has(key) && content.has(key) && Object.is(content.get(key), value)) return;
    content.set(key, value);
    this.#forgetFlash(key);
    this.#noteValueGiven(value);
    this.#version++;
  }

  unset(key: string): void {
    // Only a real removal counts: a request that unsets what is not there stores nothing.
    if (!this.#stored.content.has(key)) return;
    this.#stored.content.delete(key);
    this.#forgetFlash(key);
    this.#version++;
  }

  flash(key: string, value: Value): void {
    this.#stored.content.set(key, value);
    this.#stored.flashedKeys.add(key);
    (this.#flashedHere ??= new Set()).add(key);
    this.#flashesShown?.delete(key);
    this.#noteValueGiven(value);
    this.#version++;
  }

  destroy(): void {
    this.#identityChange = { kind: "destroy" };
    this.#stored.content.clear();
    this.#stored.flashedKeys.clear();
    this.#flashedHere?.clear();
    this.#flashesShown?.clear();
    this.#version++;
  }

  regenerate(): void {
    // After destroy() the session is new already: there is nothing to move.
    if (this.#identityChange?.kind !== "destroy") this.#identityChange = { kind: "regenerate" };
    this.#version++;
  }

  commit(): Promise<string> {
    // Commits run one after another, so a later one always writes the later state.
    const previous = this.#lastCommit?.catch(ignore) ?? Promise.resolve();
    // The first commit asked for always writes (the store's contract: it returns the header to
    // send); a later one writes only what changed since, and otherwise returns the same header.
    return this.#track(
      previous.then(() =>
        this.#committedHeader === undefined || this.#hasUncommittedChanges() ? this.#write() : this.#committedHeader,
      ),
    );
  }

  /** Counts `commit` as under way until it settles, and makes it the one later commits wait for. */
  #track(commit: Promise<string>): Promise<string> {
    this.#commitsUnderWay++;
    const tracked = commit.finally(() => this.#commitsUnderWay--);
    // A caller that does not await (`void session.commit()`) must not crash the process with
    // an unhandled rejection: the failed change stays pending, and the middleware's own
    // commit retries it and hands the error to next(err). Awaiting callers still get it.
    tracked.catch(ignore);
    this.#lastCommit = tracked;
    return tracked;
  }

  /**
   * @internal Whether something must still be persisted or is being persisted: a commit
   * under way, or anything `#hasUncommittedChanges` counts.
   */
  hasPendingChanges(): boolean {
    return this.#commitsUnderWay > 0 || this.#hasUncommittedChanges();
  }

  /**
   * A change, destroy() or regenerate() since the last commit, a value mutated in place,
   * a shown flash to drop, or the storage's own reason (a key to rotate, a lifetime to renew).
   */
  #hasUncommittedChanges(): boolean {
    return (
      this.#identityChange !== undefined ||
      this.#version !== this.#committedVersion ||
      this.#hasChangedInPlace() ||
      (this.#storage.needsCommit?.(this.#metadata) ?? false)
    );
  }

  /**
   * @internal Waits for commits under way (a handler's own), then commits what is still
   * pending, changes made while they ran included. A failed earlier commit leaves its
   * changes pending, so it is retried once here.
   */
  async commitPendingChanges(): Promise<void> {
    // Bounded: a storage whose needsCommit never turns false must not loop for ever.
    for (let round = 0; round < maxCommitRounds; round++) {
      await this.#lastCommit?.catch(ignore);
      if (!this.#hasUncommittedChanges()) return;
      await this.commit();
    }
  }

  /**
   * @internal `commitPendingChanges`, done at once when nothing is under way and the
   * storage writes without waiting (`toHeaderMaybeSync`): the response then leaves
   * without being held. Otherwise, and for destroy/regenerate, the promise of the
   * asynchronous path. It may throw.
   */
  commitPendingChangesMaybeSync(): MaybePromise<void> {
    if (this.#commitsUnderWay > 0 || this.#identityChange || !this.#storage.toHeaderMaybeSync) return this.commitPendingChanges();
    if (!this.#hasUncommittedChanges()) return undefined;
    const written = this.#write();
    if (written instanceof Promise) return this.#track(written).then(() => this.commitPendingChanges());
    return undefined;
  }

  /** @internal Whether this session was opened through `storage`: how a middleware recognises its own on `req.session`. */
  isOpenedThrough(storage: SessionStorage<unknown, unknown>): boolean {
    return this.#storage === storage;
  }

  /** @internal The header of the latest commit of this request: `""` when it had nothing to send, `undefined` before any. */
  get committedHeader(): string | undefined {
    return this.#committedHeader;
  }

  /** Persists the session; synchronous when the storage writes without waiting. */
  #write(): MaybePromise<string> {
    const { content, flashedKeys } = this.#stored;
    for (const key of this.#flashesShown ?? []) {
      content.delete(key);
      flashedKeys.delete(key);
    }
    this.#flashesShown?.clear();
    const version = this.#version;
    const fingerprint = this.#fingerprintIfNeeded();
    const change = this.#identityChange;
    const written = change ? this.#writeUnderNewIdentity(change.kind) : writeSessionTo(this.#storage, this.#stored, this.#metadata);
    if (written instanceof Promise) {
      return withinTimeout(written, this.#timeout, change?.kind ?? "write").then((header) => this.#written(header, version, fingerprint, change));
    }
    return this.#written(written, version, fingerprint, change);
  }

  #written(header: string | SessionGone, version: number, fingerprint: string | undefined, change: IdentityChange | undefined): string {
    if (this.#identityChange === change) this.#identityChange = undefined;
    this.#committedVersion = version;
    this.#fingerprint = fingerprint;
    this.#committedHeader = header === sessionGone ? "" : header;
    return this.#committedHeader;
  }

  /**
   * Carries out destroy() or regenerate(). A destroyed session that was given new values
   * (a "Signed out" flash) continues as a new session, as a request without a cookie would.
   */
  async #writeUnderNewIdentity(kind: IdentityChange["kind"]): Promise<string | SessionGone> {
    const storage = this.#storage;
    if (kind === "regenerate") {
      const moved = await regenerateIn(storage, this.#stored, this.#metadata);
      this.#metadata = moved.metadata;
      return moved.header;
    }
    const ending = await forgetSessionIn(storage, this.#metadata);
    const [, freshMetadata] = await readSessionFrom(storage, undefined);
    this.#metadata = freshMetadata as Metadata;
    if (this.#stored.content.size === 0) return typeof ending === "string" ? ending : sessionGone;
    return writeSessionTo(storage, this.#stored, this.#metadata);
  }

  #hasChangedInPlace(): boolean {
    if (!this.#mayBeChangedInPlace) return false;
    const { hasChanged } = this.#storage;
    if (hasChanged) return hasChanged.call(this.#storage, this.#stored, this.#metadata);
    return fingerprintOf(this.#stored) !== this.#fingerprint;
  }

  #fingerprintIfNeeded(): string | undefined {
    return this.#storage.hasChanged ? undefined : fingerprintOf(this.#stored);
  }

  /** An object given to set() or flash() stays the application's to change; the change counter covers it until the next commit. */
  #noteValueGiven(value: Value): void {
    if (isObject(value)) this.#mayBeChangedInPlace = true;
  }

  #forgetFlash(key: string): void {
    this.#stored.flashedKeys.delete(key);
    this.#flashesShown?.delete(key);
    this.#flashedHere?.delete(key);
  }
}

/** Commit rounds at most when the session keeps changing (or its storage keeps asking) while it is committed. */
const maxCommitRounds = 3;

function ignore(): undefined {
  return undefined;
}

/** JSON of the content, or `undefined` for values JSON cannot express (memory storages may hold any). */
function fingerprintOf(stored: StoredSession<unknown>): string | undefined {
  try {
    return JSON.stringify(Array.from(stored.content));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function isStoredSession(value: unknown): value is StoredSession<unknown> {
  const candidate = value as Partial<StoredSession<unknown>> | undefined;
  return (
    typeof candidate?.content?.get === "function" &&
    typeof candidate.content.set === "function" &&
    typeof candidate.flashedKeys?.has === "function" &&
    typeof candidate.flashedKeys.add === "function"
  );
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return String(value);
  return `an object with keys [${Object.keys(value).join(", ")}]`;
}
