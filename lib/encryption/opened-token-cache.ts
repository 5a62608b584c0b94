import type { OpenedToken } from "./cookie-cipher.js";

/**
 * Tokens this process sealed or already authenticated, by their exact value, with
 * their plaintext: a browser sends back the cookie we just set, so most reads need
 * no decryption at all. It holds strings only; each request parses its own copy, so
 * no object is shared between requests. Expiry is not decided here: the envelope
 * inside is checked on every read.
 *
 * Bounded with two generations instead of a strict LRU list: a hit in the current
 * generation is one `Map.get` (a strict LRU would delete and re-insert on every read);
 * a hit in the previous one moves the token forward; when the current generation is
 * full, the previous is dropped. Tokens in use survive; about `capacity` are kept.
 */
export class OpenedTokenCache {
  #current = new Map<string, CacheEntry>();
  #previous = new Map<string, CacheEntry>();
  readonly #generationSize: number;

  constructor(capacity: number) {
    this.#generationSize = Math.max(1, Math.ceil(capacity / 2));
  }

  get(token: string): OpenedToken | undefined {
    const key = tagOf(token);
    const entry = this.#current.get(key) ?? this.#promote(key);
    return entry?.token === token ? entry.opened : undefined;
  }

  add(token: string, opened: OpenedToken): void {
    this.#store(tagOf(token), { token, opened });
  }

  #promote(key: string): CacheEntry | undefined {
    const entry = this.#previous.get(key);
    if (entry) {
      this.#previous.delete(key);
      this.#store(key, entry);
    }
    return entry;
  }

  #store(key: string, entry: CacheEntry): void {
    if (this.#current.size >= this.#generationSize) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, entry);
  }
}

type CacheEntry = { token: string; opened: OpenedToken };

/**
 * The key: the token's last part, its 16-byte authentication tag (unique per token), so a
 * lookup hashes 22 characters, not the whole cookie; the full token is compared on a hit.
 */
function tagOf(token: string): string {
  return token.slice(token.lastIndexOf(".") + 1);
}
