/**
 * Two hand-written cookie middlewares that mark the ends of the scale for a cookie storage,
 * not libraries anyone should use:
 *
 * - `noCryptoProbe`: the session as base64url JSON in the cookie, neither encrypted nor
 *   signed (insecure: a client can write any session). What a cookie session costs with
 *   no cryptography at all: the ceiling.
 * - `jweEveryRequestProbe`: a compact JWE (`dir` + `A256GCM`, the format of our cookie
 *   storage) on node:crypto, decrypted on every request and encrypted on every write: the
 *   floor a cookie storage that caches nothing would reach.
 *
 * Both carry an expiry in the content and check it, parse the `Cookie` header by hand,
 * load `req.session` in a middleware and set the cookie when the route stores a session.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { Request } from "express";
import { benchSecret, sessionCookieName, sessionMaxAgeSeconds } from "../config.js";
import type { BenchSession, VariantFactory } from "../routes.js";

/** What a probe keeps in its cookie: the routes' session and when it expires (epoch seconds). */
type ProbeContent = BenchSession & { exp: number };

export type Codec = {
  encode(json: string): string;
  /** The JSON, or undefined for a value the probe did not write. */
  decode(value: string): string | undefined;
};

const cookieAttributes = `; Max-Age=${sessionMaxAgeSeconds}; Path=/; HttpOnly; SameSite=Lax`;
const cookiePrefix = `${sessionCookieName}=`;

// The probes keep the session where a hand-written middleware would: req.session.
const sessionOf = (req: Request) => (req as unknown as { session: BenchSession | undefined }).session;
const setSessionOf = (req: Request, session: BenchSession | undefined) => {
  (req as unknown as { session: BenchSession | undefined }).session = session;
};

/** The value of our cookie in a `Cookie` header, without a general parser (one name to find). */
function cookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let start = header.startsWith(cookiePrefix) ? 0 : header.indexOf(`; ${cookiePrefix}`);
  if (start < 0) return undefined;
  if (start > 0) start += 2;
  const end = header.indexOf(";", start);
  return header.slice(start + cookiePrefix.length, end < 0 ? undefined : end);
}

function probe(codec: Codec): VariantFactory {
  return () => ({
    mount(app) {
      app.use((req, _res, next) => {
        const value = cookieValue(req.headers.cookie);
        const json = value === undefined ? undefined : codec.decode(value);
        let session: BenchSession | undefined;
        if (json !== undefined) {
          try {
            const content = JSON.parse(json) as ProbeContent;
            if (content.exp * 1000 > Date.now()) session = { counter: content.counter, user: content.user };
          } catch {
            // Not JSON: no session.
          }
        }
        setSessionOf(req, session);
        next();
      });
    },
    get: (req) => sessionOf(req),
    set(req, res, session) {
      setSessionOf(req, session);
      const content: ProbeContent = { counter: session.counter, user: session.user, exp: Math.floor(Date.now() / 1000) + sessionMaxAgeSeconds };
      res.setHeader("set-cookie", `${cookiePrefix}${codec.encode(JSON.stringify(content))}${cookieAttributes}`);
    },
  });
}

/** No cryptography: base64url JSON. Insecure; the ceiling of a cookie session. */
export const noCryptoProbe: VariantFactory = probe({
  encode: (json) => Buffer.from(json, "utf8").toString("base64url"),
  decode: (value) => Buffer.from(value, "base64url").toString("utf8"),
});

const protectedHeader = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM" })).toString("base64url");
const additionalData = Buffer.from(protectedHeader, "ascii");

/**
 * A compact JWE (`dir` + `A256GCM`) sealed and opened with node:crypto under `key`, each seal
 * with the IV `nextIv` gives. The JWE probe uses it, and so does `bench/aes-gcm-cost.ts`.
 */
export function compactJweCodec(key: Buffer, nextIv: () => Buffer): Codec {
  return {
    encode(json) {
      const iv = nextIv();
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
      cipher.setAAD(additionalData);
      const ciphertext = Buffer.concat([cipher.update(json, "utf8"), cipher.final()]);
      return `${protectedHeader}..${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
    },
    decode(value) {
      const parts = value.split(".");
      if (parts.length !== 5 || parts[0] !== protectedHeader || parts[1] !== "") return undefined;
      const iv = Buffer.from(parts[2]!, "base64url");
      const tag = Buffer.from(parts[4]!, "base64url");
      if (iv.length !== 12 || tag.length !== 16) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
        decipher.setAAD(additionalData);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(parts[3]!, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        // Tampered or not ours: no session.
        return undefined;
      }
    },
  };
}

/** Compact JWE dir + A256GCM on node:crypto: every request decrypts, every write encrypts. */
export const jweEveryRequestProbe: VariantFactory = probe(
  compactJweCodec(createHash("sha256").update(benchSecret).digest(), () => randomBytes(12)),
);
