import { createCipheriv } from "node:crypto";
import { compactDecrypt, type CompactJWEHeaderParameters } from "jose";
import { deriveCookieKey, type CookieKey } from "./cookie-keys.js";
import { IvPool } from "./iv-pool.js";
import { OpenedTokenCache } from "./opened-token-cache.js";

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
/** Tokens remembered as authenticated; about 1 MB for typical 400-byte cookies. */
const openedTokenCacheSize = 1000;
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
 * Sealing uses node:crypto directly: a compact JWE exactly as jose writes it (the
 * protected header is the AAD, a random 96-bit IV, a 128-bit tag), synchronous and
 * several times cheaper than jose's WebCrypto round trip, which matters on every
 * write. Opening untrusted tokens is left to jose's strict parser; tokens this
 * process sealed or opened before are recognised from a cache and not decrypted again.
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
  // The protected header never changes for a key: encode it once.
  const protectedHeader = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM", kid: currentKey.id })).toString("base64url");
  const additionalData = Buffer.from(protectedHeader, "ascii");
  const cache = new OpenedTokenCache(openedTokenCacheSize);
  const ivs = new IvPool();

  const keyForHeader = (header: CompactJWEHeaderParameters) => {
    // The key id picks the key: no trial decryption with every secret.
    const key = typeof header.kid === "string" ? keys.get(header.kid) : undefined;
    if (!key) throw new Error("unknown key id");
    return key.key;
  };

  return {
    async seal(plaintext) {
      const iv = ivs.next();
      const cipher = createCipheriv("aes-256-gcm", currentKey.keyObject, iv, { authTagLength: 16 });
      cipher.setAAD(additionalData);
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const token = `${protectedHeader}..${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
      cache.add(token, { plaintext, isSealedWithCurrentKey: true });
      return token;
    },
    async open(token) {
      if (token.length > maxTokenLength) return undefined;
      const remembered = cache.get(token);
      if (remembered) return remembered;
      try {
        const { plaintext, protectedHeader } = await compactDecrypt(token, keyForHeader, decryptOptions);
        const opened = { plaintext: decoder.decode(plaintext), isSealedWithCurrentKey: protectedHeader.kid === currentKey.id };
        cache.add(token, opened);
        return opened;
      } catch {
        // Forged, truncated, tampered, re-keyed, another algorithm: all read as "no session".
        return undefined;
      }
    },
  };
}
