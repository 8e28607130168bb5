/**
 * Faults of a machine's cores, drawn from the seeded PRNG: late interrupts and a skewed, drifting
 * local clock. Validation names the field; a machine without faults draws nothing, so existing
 * runs keep their traces.
 */
import type { Prng } from './prng.js';

export interface CoreFaults {
  /** Each raised vector is, with `probability`, delivered 1..maxNs ns late. */
  interruptDelay?: { probability: number; maxNs: number };
  /** After each slice a core, with `probability`, stalls 1..maxNs ns (an SMI): nothing runs on it meanwhile. */
  stall?: { probability: number; maxNs: number };
  /**
   * The machine's clock (what its Timer and APIC timer count in) is `skewNs` ahead of simulation
   * time and runs `driftPpm` parts per million fast (negative: slow). Each is drawn once per
   * machine, uniformly in [0, maxSkewNs] and [-maxDriftPpm, maxDriftPpm].
   */
  clock?: { maxSkewNs: number; maxDriftPpm: number };
}

/** Throws a RangeError naming the field (`faults.interruptDelay.maxNs`, ...). */
export function validateCoreFaults(f: CoreFaults): CoreFaults {
  if (typeof f !== 'object' || f === null) throw new RangeError('core faults must be an object');
  const known = ['interruptDelay', 'stall', 'clock'];
  for (const k of Object.keys(f)) if (!known.includes(k)) throw new RangeError(`core faults.${k} is not a fault (known: ${known.join(', ')})`);
  const d = f.interruptDelay;
  if (d !== undefined) {
    if (!(typeof d.probability === 'number' && d.probability >= 0 && d.probability <= 1)) throw new RangeError(`core faults.interruptDelay.probability must be in [0, 1], got ${String(d.probability)}`);
    if (!(Number.isInteger(d.maxNs) && d.maxNs >= 1)) throw new RangeError(`core faults.interruptDelay.maxNs must be an integer >= 1, got ${String(d.maxNs)}`);
  }
  const st = f.stall;
  if (st !== undefined) {
    if (!(typeof st.probability === 'number' && st.probability >= 0 && st.probability <= 1)) throw new RangeError(`core faults.stall.probability must be in [0, 1], got ${String(st.probability)}`);
    if (!(Number.isInteger(st.maxNs) && st.maxNs >= 1)) throw new RangeError(`core faults.stall.maxNs must be an integer >= 1, got ${String(st.maxNs)}`);
  }
  const c = f.clock;
  if (c !== undefined) {
    if (!(Number.isInteger(c.maxSkewNs) && c.maxSkewNs >= 0 && c.maxSkewNs < 2 ** 32)) throw new RangeError(`core faults.clock.maxSkewNs must be an integer in [0, 2^32), got ${String(c.maxSkewNs)}`);
    if (!(typeof c.maxDriftPpm === 'number' && c.maxDriftPpm >= 0 && c.maxDriftPpm <= 100_000)) throw new RangeError(`core faults.clock.maxDriftPpm must be in [0, 100000], got ${String(c.maxDriftPpm)}`);
  }
  return f;
}

/** @internal A machine's local clock: `floor(simNs * rate) + skewNs`, monotonic, deterministic. */
export class LocalClock {
  constructor(
    readonly skewNs: number,
    readonly driftPpm: number,
  ) {}
  private get rate(): number {
    return 1 + this.driftPpm / 1e6;
  }
  /** Local time at simulation time `simNs`. */
  at(simNs: number): number {
    return Math.floor(simNs * this.rate) + this.skewNs;
  }
  /** Simulation ns that pass while the local clock counts `localNs`. */
  simDelay(localNs: number): number {
    return Math.ceil(localNs / this.rate);
  }
  static draw(prng: Prng, c: { maxSkewNs: number; maxDriftPpm: number }): LocalClock {
    const skew = c.maxSkewNs === 0 ? 0 : prng.nextInt(c.maxSkewNs + 1);
    const drift = c.maxDriftPpm === 0 ? 0 : Math.round((prng.nextFloat() * 2 - 1) * c.maxDriftPpm);
    return new LocalClock(skew, drift);
  }
}
