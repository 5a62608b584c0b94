import { createSecretKey, hkdfSync, webcrypto, type KeyObject } from "node:crypto";

/** One encryption key derived from one secret, and the key id that names it in tokens. */
export type CookieKey = {
  /** 8 base64url characters; reveals nothing about the secret. */
  id: string;
  /** The key for jose (opening tokens): imported once, since jose would import raw bytes on every call. */
  key: Promise<webcrypto.CryptoKey>;
  /** The same key for node:crypto (sealing tokens on every write, synchronously, off the thread pool). */
  keyObject: KeyObject;
};

// Changing this label invalidates every cookie issued under the old one: bump it only with the format.
const salt = "remastered-sessions/cookie/v1";

/**
 * Derives a key from `secret` with HKDF-SHA-256, once, at start-up. The cookie name
 * is part of the derivation, so a token copied into another cookie of the app does not open.
 */
export function deriveCookieKey(secret: string, cookieName: string): CookieKey {
  const keyBytes = new Uint8Array(hkdfSync("sha256", secret, salt, `encryption:${cookieName}`, 32));
  const idBytes = new Uint8Array(hkdfSync("sha256", secret, salt, `key-id:${cookieName}`, 6));
  const key = webcrypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { id: Buffer.from(idBytes).toString("base64url"), key, keyObject: createSecretKey(keyBytes) };
}
