import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, test } from "@jest/globals";
import { CompactEncrypt, compactDecrypt } from "jose";
import { createCookieCipher } from "../lib/encryption/cookie-cipher.js";
import { deriveCookieKey } from "../lib/encryption/cookie-keys.js";
import { OpenedTokenCache } from "../lib/encryption/opened-token-cache.js";
import { testSecret } from "./fixtures.js";

// Tokens are sealed with node:crypto; jose is the reference they must agree with, both ways.
const cipher = () => createCookieCipher([testSecret], "sid");
const key = deriveCookieKey(testSecret, "sid");
const partsOf = (token: string) => token.split(".");

describe("compact JWE sealed with node:crypto, checked against jose", () => {
  test("jose opens every token we seal, and sees exactly our protected header", async () => {
    const sealer = cipher();
    for (const plaintext of ["", "x", "Grüße 👋", "a".repeat(3000)]) {
      const token = await sealer.seal(plaintext);
      const opened = await compactDecrypt(token, await key.key);
      expect(new TextDecoder().decode(opened.plaintext)).toBe(plaintext);
      expect(opened.protectedHeader).toEqual({ alg: "dir", enc: "A256GCM" });
    }
  });

  test("we open what jose seals with the same key", async () => {
    const token = await new CompactEncrypt(new TextEncoder().encode("from jose"))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(await key.key);
    expect((await cipher().open(token))?.plaintext).toBe("from jose");
  });

  test("every IV is 12 random bytes, every tag 16 bytes, the encrypted key empty", async () => {
    const sealer = cipher();
    const ivs = new Set<string>();
    for (let index = 0; index < 200; index++) {
      const [, encryptedKey, iv, , tag] = partsOf(await sealer.seal("same plaintext"));
      expect(encryptedKey).toBe("");
      expect(Buffer.from(iv!, "base64url")).toHaveLength(12);
      expect(Buffer.from(tag!, "base64url")).toHaveLength(16);
      ivs.add(iv!);
    }
    expect(ivs.size).toBe(200);
  });

  test("the protected header is the additional authenticated data: changing it breaks the token", async () => {
    const [, ...rest] = partsOf(await cipher().seal("payload"));
    const otherHeader = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM", x: 1 })).toString("base64url");
    const forged = [otherHeader, ...rest].join(".");
    expect(await createCookieCipher([testSecret], "sid").open(forged)).toBeUndefined();
    await expect(compactDecrypt(forged, await key.key)).rejects.toThrow();
  });

  test("a tag truncated to 12 bytes is refused, even though AES-GCM could check it", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM" })).toString("base64url");
    const iv = randomBytes(12);
    const gcm = createCipheriv("aes-256-gcm", key.keyObject, iv, { authTagLength: 12 });
    gcm.setAAD(Buffer.from(header, "ascii"));
    const ciphertext = Buffer.concat([gcm.update("short tag", "utf8"), gcm.final()]);
    const token = `${header}..${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${gcm.getAuthTag().toString("base64url")}`;
    expect(await cipher().open(token)).toBeUndefined();
  });

  test("a sealed token opens from the cache as the same plaintext, and its variants do not", async () => {
    const sealer = cipher();
    const token = await sealer.seal("cached");
    expect((await sealer.open(token))?.plaintext).toBe("cached");
    const [header, encryptedKey, iv, ciphertext, tag] = partsOf(token);
    const flippedTag = tag!.startsWith("A") ? `B${tag!.slice(1)}` : `A${tag!.slice(1)}`;
    expect(await sealer.open([header, encryptedKey, iv, ciphertext, flippedTag].join("."))).toBeUndefined();
  });
});

describe("the cache of tokens already opened", () => {
  const opened = (plaintext: string) => ({ plaintext, isSealedWithCurrentKey: true });
  const token = (index: number) => `header..iv.ciphertext.tag${index}`;

  test("holds about its capacity, drops the oldest first, and keeps a token in use", () => {
    const cache = new OpenedTokenCache(10);
    cache.add(token(0), opened("hot"));
    for (let index = 1; index <= 100; index++) {
      cache.add(token(index), opened(String(index)));
      expect(cache.get(token(0))?.plaintext).toBe("hot"); // read on every request: never evicted
    }
    expect(cache.get(token(1))).toBeUndefined();
    expect(cache.get(token(100))?.plaintext).toBe("100");
    const kept = Array.from({ length: 101 }, (_, index) => cache.get(token(index))).filter(Boolean);
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThanOrEqual(10);
  });

  test("a token with the same tag but another body is not taken for the cached one", () => {
    const cache = new OpenedTokenCache(10);
    cache.add("a..iv.ciphertext.tag", opened("real"));
    expect(cache.get("b..iv.ciphertext.tag")).toBeUndefined();
    expect(cache.get("a..iv.ciphertext.tag")?.plaintext).toBe("real");
  });
});
