/** Seeds and deterministic payloads shared by the simulation tests and benches. */

/**
 * Seeds to run: just EBBRT_SEED when set (a failing seed replays exactly), else 1..n, or at most
 * 3 of them with EBBRT_QUICK set.
 */
export function seeds(n: number): number[] {
  const env = process.env.EBBRT_SEED;
  if (env !== undefined && env !== '') {
    const seed = Number(env);
    if (!Number.isSafeInteger(seed)) throw new Error(`EBBRT_SEED must be an integer, got ${JSON.stringify(env)}`);
    return [seed];
  }
  return Array.from({ length: process.env.EBBRT_QUICK ? Math.min(3, n) : n }, (_, i) => i + 1);
}

/** Deterministic bytes for datagram `seq` of length `len` (first 4 bytes: seq). */
export function payloadFor(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = (seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  if (len >= 4) new DataView(b.buffer).setUint32(0, seq);
  return b;
}
