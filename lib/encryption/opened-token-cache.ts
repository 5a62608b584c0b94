import type { OpenedToken } from "./cookie-cipher.js";

/**
 * Tokens this process sealed or already authenticated, by their exact value, with
 * their plaintext: a browser sends back the cookie we just set, so most reads need
 * no decryption at all. Bounded, least recently used first out. It holds strings
 * only; each request parses its own copy, so no object is shared between requests.
 * Expiry is not decided here: the envelope inside is checked on every read.
 */
export class OpenedTokenCache {
  /**
   * Keyed by the token's last part, its 16-byte authentication tag (unique per token),
   * so a lookup hashes 22 characters, not the whole cookie; the full token is compared on a hit.
   */
  readonly #entries = new Map<string, { token: string; opened: OpenedToken }>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(token: string): OpenedToken | undefined {
    const key = tagOf(token);
    const entry = this.#entries.get(key);
    if (entry?.token !== token) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.opened;
  }

  add(token: string, opened: OpenedToken): void {
    this.#entries.set(tagOf(token), { token, opened });
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

function tagOf(token: string): string {
  return token.slice(token.lastIndexOf(".") + 1);
}
