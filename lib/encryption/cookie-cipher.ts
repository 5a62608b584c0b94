import { CompactEncrypt, compactDecrypt, type CompactJWEHeaderParameters } from "jose";
import { deriveCookieKey, type CookieKey } from "./cookie-keys.js";

/** What `open` found in a token. */
export type OpenedToken = {
  plaintext: string;
  /** False when an older secret of the rotation opened it: re-encrypt it under the current one. */
  isSealedWithCurrentKey: boolean;
};

/** Encrypts and decrypts cookie values as compact JWE (`dir` + `A256GCM`). */
export type CookieCipher = {
  seal(plaintext: string): Promise<string>;
  /** The plaintext, or `undefined` for anything that is not a token we sealed: it never throws. */
  open(token: string): Promise<OpenedToken | undefined>;
};

/** Longer tokens cannot come from us (the cookie limit is 4096 bytes): refused before any crypto. */
const maxTokenLength = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const decryptOptions = {
  keyManagementAlgorithms: ["dir"],
  contentEncryptionAlgorithms: ["A256GCM"],
  // jose would otherwise inflate `zip: "DEF"` tokens up to 250 kB: a cheap amplification attack.
  maxDecompressedLength: 0,
};

/**
 * A cipher over the secrets of one cookie: the first secret seals, all open.
 *
 * @example
 * const cipher = createCookieCipher(["a secret of at least 32 characters!!"], "sid");
 * const token = await cipher.seal("hello");
 * (await cipher.open(token))?.plaintext; // "hello"
 */
export function createCookieCipher(secrets: readonly string[], cookieName: string): CookieCipher {
  const keys = new Map<string, CookieKey>();
  for (const secret of secrets) {
    const derived = deriveCookieKey(secret, cookieName);
    if (!keys.has(derived.id)) keys.set(derived.id, derived);
  }
  const currentKey = keys.values().next().value;
  if (!currentKey) throw new TypeError("createCookieCipher needs at least one secret");

  const keyForHeader = (header: CompactJWEHeaderParameters) => {
    // The key id picks the key: no trial decryption with every secret.
    const key = typeof header.kid === "string" ? keys.get(header.kid) : undefined;
    if (!key) throw new Error("unknown key id");
    return key.key;
  };

  return {
    async seal(plaintext) {
      return new CompactEncrypt(encoder.encode(plaintext))
        .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: currentKey.id })
        .encrypt(await currentKey.key);
    },
    async open(token) {
      if (token.length > maxTokenLength) return undefined;
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(token, keyForHeader, decryptOptions);
        return {
          plaintext: decoder.decode(plaintext),
          isSealedWithCurrentKey: protectedHeader.kid === currentKey.id,
        };
      } catch {
        // Forged, truncated, tampered, re-keyed, another algorithm: all read as "no session".
        return undefined;
      }
    },
  };
}
