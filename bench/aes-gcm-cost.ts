/**
 * What AES-256-GCM itself costs for one benchmark session, in CPU µs: one seal (encrypt
 * and write a compact JWE, as our cookie storage does on a write) and one open (parse,
 * decrypt and check the tag, as a read of an unknown token does). The report sets the
 * cookie storage's CPU over the no-crypto probe against these numbers: the distance to
 * the ceiling should be what the cryptography costs, nothing more.
 *
 * `node --import tsx bench/aes-gcm-cost.ts` prints the numbers as JSON; the harness runs
 * it on each server node binary (`measureAesGcmCost` in the harness process would measure
 * the harness's Node).
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { sessionMaxAgeSeconds } from "./config.js";
import { makeUser } from "./routes.js";
import { compactJweCodec } from "./variants/probes.js";

export type AesGcmCost = {
  /** Bytes of plaintext sealed and opened: a 200-byte-user session's JSON with its expiry. */
  plaintextBytes: number;
  /** CPU µs per seal (encrypt, tag, base64url compact JWE; the IV from a pre-drawn block). */
  sealMicros: number;
  /** CPU µs per open (split, base64url decode, decrypt, tag check, UTF-8 decode). */
  openMicros: number;
};

export function measureAesGcmCost(): AesGcmCost {
  const plaintext = JSON.stringify({ counter: 1, user: makeUser(200), exp: Math.floor(Date.now() / 1000) + sessionMaxAgeSeconds });
  // IVs drawn from a block of random bytes, as the library's IvPool does: the cost is the cipher's, not the CSPRNG call's.
  const ivs = randomBytes(12 * 512);
  let ivAt = 0;
  const codec = compactJweCodec(randomBytes(32), () => {
    ivAt = (ivAt + 12) % ivs.length;
    return ivs.subarray(ivAt, ivAt + 12);
  });
  const token = codec.encode(plaintext);
  if (codec.decode(token) !== plaintext) throw new Error("aes-gcm-cost: the token did not open to its plaintext");
  return {
    plaintextBytes: Buffer.byteLength(plaintext),
    sealMicros: cpuMicrosPerCall(() => codec.encode(plaintext)),
    openMicros: cpuMicrosPerCall(() => codec.decode(token)),
  };
}

/** The lowest of several batches' CPU time per call, after a warm-up: the cost without the machine's noise. */
function cpuMicrosPerCall(operation: () => unknown): number {
  const batch = 20_000;
  for (let i = 0; i < batch; i++) operation();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < batch; i++) operation();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / batch);
  }
  return best;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(measureAesGcmCost())}\n`);
}
