import type { MaybePromise } from "./maybe-promise.js";
import { emptySession } from "./session-changes.js";
import {
  readSessionFrom,
  writeSessionTo,
  type SessionStorage,
  type SessionWithMetadata,
  type StoredSession,
} from "./session-storage.js";

/** A storage, possibly with the optional `destroy` extension (see `withEncryptedCookies`). */
type StorageWithLifecycle<Value, Metadata> = SessionStorage<Value, Metadata> & {
  destroy?(metadata: Metadata): Promise<string>;
};

/** Keys and value types of a session, e.g. `{ user: User; visits: number }` (a type or an interface). */
export type SessionRecord<Value> = Record<string, Value>;

/**
 * The session of one request: a `Map`-like API plus `flash` and `commit`
 * (the seed's `SessionStore<Value>`).
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
  get<Key extends keyof Flash & string>(key: Key): Flash[Key] | undefined;
  /** Stores a lasting value. Setting a flashed key makes it an ordinary value. */
  set<Key extends keyof Data & string>(key: Key, value: Data[Key]): void;
  /** Removes `key`, lasting or flashed. */
  unset(key: (keyof Data | keyof Flash) & string): void;
  /** Stores a value that a later request reads once, e.g. a message shown after a redirect. */
  flash<Key extends keyof Flash & string>(key: Key, value: Flash[Key]): void;
  /**
   * Persists the session through its storage and resolves to the response header
   * value (a whole `Set-Cookie` value for cookie-based storages). The Express
   * middleware calls it for you when the response goes out.
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
 * Opens one session from a raw request header (the seed's `intoSessionStore`).
 *
 * @example
 * const session = await intoSessionStore(storage, req.headers.cookie);
 * session.get("user");
 */
export async function intoSessionStore<Value, Metadata>(
  storage: SessionStorage<Value, Metadata>,
  header?: string,
): Promise<SessionStore<Value>> {
  return TrackedSessionStore.open(storage, header);
}

/**
 * The `SessionStore` implementation. It tracks what the request changed, so the
 * middleware commits only when something must be persisted, and at most once per change.
 */
export class TrackedSessionStore<Value, Metadata> implements SessionStore<Value> {
  readonly #storage: StorageWithLifecycle<Value, Metadata>;
  readonly #stored: StoredSession<Value>;
  /** Replaced when destroy() or regenerate() gives the session a new identity. */
  #metadata: Metadata;
  #identityChange: "destroy" | "regenerate" | undefined;

  // Both sets are created on first use: most requests flash nothing and read no flash.
  /** Flashes set during this request: readable here without being consumed. */
  #flashedHere: Set<string> | undefined;
  /** Flashes of earlier requests read here: the next commit removes them. */
  #flashesShown: Set<string> | undefined;
  #changeCount = 0;
  #committedChangeCount = 0;
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
  #committedHeader: string | undefined;

  private constructor(storage: StorageWithLifecycle<Value, Metadata>, stored: StoredSession<Value>, metadata: Metadata) {
    this.#storage = storage;
    this.#stored = stored;
    this.#metadata = metadata;
  }

  static async open<Value, Metadata>(
    storage: SessionStorage<Value, Metadata>,
    header: string | undefined,
  ): Promise<TrackedSessionStore<Value, Metadata>> {
    return TrackedSessionStore.openMaybeSync(storage, header);
  }

  /** `open`, synchronous when the storage answers at once (see `fromHeaderMaybeSync`); it may throw. */
  static openMaybeSync<Value, Metadata>(
    storage: SessionStorage<Value, Metadata>,
    header: string | undefined,
  ): MaybePromise<TrackedSessionStore<Value, Metadata>> {
    const loaded = readSessionFrom(storage, header);
    if (loaded instanceof Promise) return loaded.then((result) => TrackedSessionStore.#fromLoaded(storage, result));
    return TrackedSessionStore.#fromLoaded(storage, loaded);
  }

  static #fromLoaded<Value, Metadata>(
    storage: SessionStorage<Value, Metadata>,
    [stored, metadata]: SessionWithMetadata<Value, Metadata>,
  ): TrackedSessionStore<Value, Metadata> {
    if (!isStoredSession(stored)) {
      throw new TypeError(
        "The session storage's fromHeader() must resolve to [{ content: Map, flashedKeys: Set }, metadata?]; " +
          `it resolved to ${describe(stored)}.`,
      );
    }
    return new TrackedSessionStore(storage, stored, metadata as Metadata);
  }

  has(key: string): boolean {
    return this.#stored.content.has(key);
  }

  get(key: string): Value | undefined {
    const { content, flashedKeys } = this.#stored;
    if (flashedKeys.has(key) && !this.#flashedHere?.has(key) && !this.#flashesShown?.has(key)) {
      (this.#flashesShown ??= new Set()).add(key);
      this.#changeCount++;
    }
    const value = content.get(key);
    if (!this.#mayBeChangedInPlace && isObject(value)) {
      this.#fingerprint = this.#fingerprintIfNeeded();
      this.#mayBeChangedInPlace = true;
    }
    return value;
  }

  set(key: string, value: Value): void {
    this.#stored.content.set(key, value);
    this.#forgetFlash(key);
    this.#noteValueGiven(value);
    this.#changeCount++;
  }

  unset(key: string): void {
    this.#stored.content.delete(key);
    this.#forgetFlash(key);
    this.#changeCount++;
  }

  flash(key: string, value: Value): void {
    this.#stored.content.set(key, value);
    this.#stored.flashedKeys.add(key);
    (this.#flashedHere ??= new Set()).add(key);
    this.#flashesShown?.delete(key);
    this.#noteValueGiven(value);
    this.#changeCount++;
  }

  destroy(): void {
    this.#identityChange = "destroy";
    this.#stored.content.clear();
    this.#stored.flashedKeys.clear();
    this.#flashedHere?.clear();
    this.#flashesShown?.clear();
    this.#changeCount++;
  }

  regenerate(): void {
    this.#identityChange ??= "regenerate";
    this.#changeCount++;
  }

  commit(): Promise<string> {
    // Commits run one after another, so a later one always writes the later state.
    const previous = this.#lastCommit?.catch(() => undefined) ?? Promise.resolve(undefined);
    return this.#track(previous.then(() => this.#write()));
  }

  /** Counts `commit` as under way until it settles, and makes it the one later commits wait for. */
  #track(commit: Promise<string>): Promise<string> {
    this.#commitsUnderWay++;
    const tracked = commit.finally(() => this.#commitsUnderWay--);
    // A caller that does not await (`void session.commit()`) must not crash the process with
    // an unhandled rejection: the failed change stays pending, and the middleware's own
    // commit retries it and hands the error to next(err). Awaiting callers still get it.
    tracked.catch(() => undefined);
    this.#lastCommit = tracked;
    return tracked;
  }

  /**
   * @internal Whether something must still be persisted or is being persisted: a
   * commit under way, a change since the last commit, a value mutated in place, a shown
   * flash to drop, or the storage's own reason (a key to rotate, a lifetime to renew).
   */
  hasPendingChanges(): boolean {
    return (
      this.#commitsUnderWay > 0 ||
      this.#changeCount !== this.#committedChangeCount ||
      this.#hasChangedInPlace() ||
      (this.#storage.needsCommit?.(this.#metadata) ?? false)
    );
  }

  /**
   * @internal Waits for commits under way (a handler's own), then commits what is
   * still pending. A failed earlier commit leaves its changes pending, so it is retried.
   */
  async commitPendingChanges(): Promise<void> {
    await this.#lastCommit?.catch(() => undefined);
    if (this.hasPendingChanges()) await this.commit();
  }

  /**
   * @internal `commitPendingChanges`, done at once when nothing is under way and the
   * storage writes without waiting (`toHeaderMaybeSync`): the response then leaves
   * without being held. Otherwise, and for destroy/regenerate, the promise of the
   * asynchronous path. It may throw.
   */
  commitPendingChangesMaybeSync(): MaybePromise<void> {
    if (this.#commitsUnderWay > 0 || this.#identityChange || !this.#storage.toHeaderMaybeSync) return this.commitPendingChanges();
    if (!this.hasPendingChanges()) return undefined;
    const written = this.#write();
    if (written instanceof Promise) return this.#track(written).then(() => undefined);
    return undefined;
  }

  /** @internal The header value of the latest successful commit of this request, if any. */
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
    const changeCount = this.#changeCount;
    const fingerprint = this.#fingerprintIfNeeded();
    const identityChange = this.#identityChange;
    this.#identityChange = undefined;
    const header = identityChange ? this.#writeUnderNewIdentity() : writeSessionTo(this.#storage, this.#stored, this.#metadata);
    if (header instanceof Promise) return header.then((written) => this.#written(written, changeCount, fingerprint));
    return this.#written(header, changeCount, fingerprint);
  }

  #written(header: string, changeCount: number, fingerprint: string | undefined): string {
    this.#committedChangeCount = changeCount;
    this.#fingerprint = fingerprint;
    this.#committedHeader = header;
    return header;
  }

  /**
   * Ends the old identity in the storage, then takes a fresh one, as a request without
   * a cookie would get. A destroyed session that was given no new values ends there:
   * the storage's ending header (a cookie deletion) is the answer.
   */
  async #writeUnderNewIdentity(): Promise<string> {
    const storage = this.#storage;
    const endingHeader = storage.destroy
      ? await storage.destroy(this.#metadata)
      : await storage.toHeader(emptySession(), this.#metadata);
    const [, freshMetadata] = await storage.fromHeader(undefined);
    this.#metadata = freshMetadata as Metadata;
    if (this.#stored.content.size === 0) return endingHeader;
    return storage.toHeader(this.#stored, this.#metadata);
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
