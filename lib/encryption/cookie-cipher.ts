import { createCipheriv } from "node:crypto";
import { compactDecrypt, errors } from "jose";
import type { MaybePromise } from "../maybe-promise.js";
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
  seal(plaintext: string): string;
  /**
   * The plaintext, or `undefined` for anything that is not a token we sealed: it never
   * throws. Synchronous for a token this process sealed or opened before; a promise
   * when jose must decrypt it.
   */
  open(token: string): MaybePromise<OpenedToken | undefined>;
  /** `open` for a token already known to have our shape (`couldBeSealedToken`): the check is not made twice. */
  openWellShaped(token: string): MaybePromise<OpenedToken | undefined>;
};

/** Whether `token` has the shape of a token we seal; anything else cannot open, and is refused before any crypto. */
export function couldBeSealedToken(token: string): boolean {
  return token.length <= maxTokenLength && compactDirA256GcmShape.test(token);
}

/** Longer tokens cannot come from us (the cookie limit is 4096 bytes): refused before any crypto. */
const maxTokenLength = 4096;
/** Tokens remembered as authenticated; about 1 MB for typical 400-byte cookies. */
const openedTokenCacheSize = 1000;
const decoder = new TextDecoder();
/**
 * The shape of every compact JWE with `dir` + `A256GCM`: a header, an empty encrypted key,
 * a 12-byte IV (16 characters), a ciphertext and a 16-byte tag (22 characters). Anything
 * else cannot open, so it is refused at once, without a trip through jose.
 */
const compactDirA256GcmShape = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;
/** The protected header of every token, as jose writes it for `dir` + `A256GCM`: encoded once. */
const protectedHeader = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM" })).toString("base64url");

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
 * const token = cipher.seal("hello");
 * (await cipher.open(token))?.plaintext; // "hello"
 */
export function createCookieCipher(secrets: readonly string[], cookieName: string): CookieCipher {
  const keys: CookieKey[] = [...new Set(secrets)].map((secret) => deriveCookieKey(secret, cookieName));
  const currentKey = keys[0];
  if (!currentKey) throw new TypeError("createCookieCipher needs at least one secret");
  const additionalData = Buffer.from(protectedHeader, "ascii");
  const cache = new OpenedTokenCache(openedTokenCacheSize);
  const ivs = new IvPool();

  /**
   * Tries the current key, then the retired ones in order. Tokens carry no key id (it
   * would cost 23 bytes of every cookie); a retired key is tried only when the current
   * one failed, which after a rotation is the rare case, and jose refuses a malformed
   * token before any key is tried.
   */
  const decrypt = async (token: string): Promise<OpenedToken | undefined> => {
    for (const [index, { key }] of keys.entries()) {
      try {
        const { plaintext } = await compactDecrypt(token, await key, decryptOptions);
        const opened = { plaintext: decoder.decode(plaintext), isSealedWithCurrentKey: index === 0 };
        cache.add(token, opened);
        return opened;
      } catch (error) {
        // Only a failed decryption means "maybe another key": anything else is not a token of ours.
        if (!(error instanceof errors.JWEDecryptionFailed)) return undefined;
      }
    }
    // Forged, truncated, tampered, re-keyed, another algorithm: all read as "no session".
    return undefined;
  };

  return {
    seal(plaintext) {
      const iv = ivs.next();
      const cipher = createCipheriv("aes-256-gcm", currentKey.keyObject, iv, { authTagLength: 16 });
      cipher.setAAD(additionalData);
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const token = `${protectedHeader}..${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
      cache.add(token, { plaintext, isSealedWithCurrentKey: true });
      return token;
    },
    open(token) {
      if (!couldBeSealedToken(token)) return undefined;
      return cache.get(token) ?? decrypt(token);
    },
    openWellShaped(token) {
      return cache.get(token) ?? decrypt(token);
    },
  };
}
