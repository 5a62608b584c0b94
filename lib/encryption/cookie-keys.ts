import { createSecretKey, hkdfSync, webcrypto, type KeyObject } from "node:crypto";

/** One encryption key derived from one secret, in the two forms the cipher uses. */
export type CookieKey = {
  /** The key for jose (opening tokens): imported once, since jose would import raw bytes on every call. */
  key: Promise<webcrypto.CryptoKey>;
  /** The same key for node:crypto (sealing tokens on every write, synchronously, off the thread pool). */
  keyObject: KeyObject;
};

// Changing this label invalidates every cookie issued under the old one: bump it only with the format.
const salt = "remastered-sessions/cookie/v2";

/**
 * Derives a key from `secret` with HKDF-SHA-256, once, at start-up. The cookie name
 * is part of the derivation, so a token copied into another cookie of the app does not open.
 */
export function deriveCookieKey(secret: string, cookieName: string): CookieKey {
  const keyBytes = new Uint8Array(hkdfSync("sha256", secret, salt, `encryption:${cookieName}`, 32));
  const key = webcrypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { key, keyObject: createSecretKey(keyBytes) };
}
