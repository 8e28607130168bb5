/**
 * Deterministic pseudo-random numbers for the simulation.
 *
 * xoshiro128** seeded through splitmix32: fast, 32-bit-only arithmetic (no BigInt on the hot path)
 * and good enough statistically for scheduling choices and fault injection. Every random decision
 * in a simulation must come from here so that a seed replays a run exactly.
 */

const TWO_POW_32 = 4294967296;

/** One splitmix32 step; used to spread a 32-bit seed over the 128-bit xoshiro state. */
function splitmix32(state: number): number {
  let z = state | 0;
  z ^= z >>> 16;
  z = Math.imul(z, 0x21f0aaad);
  z ^= z >>> 15;
  z = Math.imul(z, 0x735a2d97);
  z ^= z >>> 15;
  return z >>> 0;
}

/** FNV-1a over the UTF-16 code units of a label, mixed with a parent seed. */
function hashLabel(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32(h ^ 0x9e3779b9);
}

/** A seeded xoshiro128** generator. Not cryptographic. */
export class Prng {
  /** The 32-bit seed this stream was created from (forks derive from it, not from the state). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed integer in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
      throw new RangeError(`Prng seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.seed = seed;
    let x = seed;
    x = (x + 0x9e3779b9) | 0;
    this.s0 = splitmix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s1 = splitmix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s2 = splitmix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s3 = splitmix32(x);
    // xoshiro's only bad state is all-zero; splitmix makes it practically impossible, but be sure.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). `n` must be an integer in [1, 2^32]. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top partial bucket so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** True with probability `p` (p <= 0 never, p >= 1 always). */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /**
   * An independent sub-stream named by `label`. Derived from this stream's seed, not its current
   * state, so forking does not perturb this stream and the same label always gives the same stream
   * regardless of when it is forked.
   */
  fork(label: string): Prng {
    return new Prng(hashLabel(this.seed, label));
  }
}
