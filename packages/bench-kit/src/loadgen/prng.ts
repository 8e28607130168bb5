/** The load generator's one PRNG: seeded, so a run's request sequence replays exactly. */
/** A seeded xorshift32 in [0, 1). */
export class Xorshift32 {
  private s: number;
  constructor(seed: number) {
    this.s = (Math.imul(seed | 0, 2654435761) >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s / 4294967296;
  }
}
