import type { OpenedToken } from "./cookie-cipher.js";

/**
 * Tokens this process sealed or already authenticated, by their exact value, with
 * their plaintext: a browser sends back the cookie we just set, so most reads need
 * no decryption at all. Bounded, least recently used first out. It holds strings
 * only; each request parses its own copy, so no object is shared between requests.
 * Expiry is not decided here: the envelope inside is checked on every read.
 */
export class OpenedTokenCache {
  readonly #entries = new Map<string, OpenedToken>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(token: string): OpenedToken | undefined {
    const opened = this.#entries.get(token);
    if (opened) {
      this.#entries.delete(token);
      this.#entries.set(token, opened);
    }
    return opened;
  }

  add(token: string, opened: OpenedToken): void {
    this.#entries.set(token, opened);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
