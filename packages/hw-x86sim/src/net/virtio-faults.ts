/**
 * Faults of a virtio-net device, below the network (issue 18): what a driver must survive from
 * the hardware rather than the wire. Every decision is drawn from the device's own PRNG stream
 * (`sim.prng.fork('virtio-net:<mac>')`, made only when faults are configured), so the same seed
 * and the same faults give the same run, and a device without faults draws nothing at all (its
 * runs are exactly what they were).
 */
import type { Prng } from '../prng.js';

/** Per-device faults; every field optional, all off by default. */
export interface VirtioNetFaults {
  /**
   * RX ring exhaustion: with `probability` per arriving frame, the device finds no posted buffer
   * (as when the driver falls behind refilling the ring) for that frame and the next `burst - 1`
   * (default burst 1). The frames are dropped and counted in `rxDroppedNoBuffer`.
   */
  rxNoBuffer?: { probability: number; burst?: number };
  /** With `probability` per used-ring interrupt, the interrupt is raised 1..`maxNs` ns late. */
  interruptDelay?: { probability: number; maxNs: number };
  /** With this probability per used-ring interrupt, the interrupt is never raised (the used entries are written). */
  interruptLoss?: number;
  /**
   * With `probability` per TX drain, the drained buffers' used entries (and their interrupt) are
   * written 1..`maxNs` ns late; the frames themselves leave at once. Later drains' completions wait
   * behind them (used entries stay in order).
   */
  txCompletionDelay?: { probability: number; maxNs: number };
  /**
   * Device reset: with this probability per frame the device handles (each arriving frame, each
   * TX drain), it hits an internal error and needs a reset (virtio 1.x §2.1.1): it sets
   * DEVICE_NEEDS_RESET, drops its queues (posted RX buffers are never used, TX still in the ring
   * is never sent, no used entry or interrupt follows) and raises its configuration interrupt.
   * The driver must reset it (status 0), renegotiate, set the queues up again and re-post.
   */
  deviceReset?: number;
  /**
   * With this probability per configuration-change interrupt (the DEVICE_NEEDS_RESET
   * notification), the interrupt is never raised; the status bit is still set. A driver that
   * waits only for the interrupt never recovers; one that also reads the status recovers.
   */
  configInterruptLoss?: number;
}

/** Fault counters (also in `VirtioNetStats`). A type alias, so that it is a `Counters`. */
export type VirtioNetFaultStats = {
  faultRxNoBuffer: number;
  faultInterruptsDelayed: number;
  faultInterruptsLost: number;
  faultTxCompletionsDelayed: number;
  /** Times the device entered DEVICE_NEEDS_RESET by the deviceReset fault. */
  faultDeviceResets: number;
  /** Configuration-change interrupts the configInterruptLoss fault swallowed. */
  faultConfigInterruptsLost: number;
};

const KEYS = ['rxNoBuffer', 'interruptDelay', 'interruptLoss', 'txCompletionDelay', 'deviceReset', 'configInterruptLoss'] as const;

function fail(field: string, what: string, got: unknown): never {
  throw new RangeError(`virtio-net faults${field === '' ? '' : `.${field}`} must be ${what}, got ${typeof got === 'object' ? JSON.stringify(got) : String(got)}`);
}

function probability(field: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(field, 'a probability in [0, 1]', v);
  return v;
}

function object(field: string, v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `an object { ${keys.join(', ')} }`, v);
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(field === '' ? k : `${field}.${k}`, `absent (known: ${keys.join(', ')})`, (v as Record<string, unknown>)[k]);
  return v as Record<string, unknown>;
}

function delay(field: string, v: unknown): { probability: number; maxNs: number } {
  const o = object(field, v, ['probability', 'maxNs']);
  const maxNs = o.maxNs;
  if (!Number.isSafeInteger(maxNs) || (maxNs as number) < 1) fail(`${field}.maxNs`, 'an integer number of ns >= 1', maxNs);
  return { probability: probability(`${field}.probability`, o.probability), maxNs: maxNs as number };
}

/** Checks a faults object; throws a RangeError naming the first bad field. Returns a normalized copy. */
export function validateVirtioNetFaults(faults: unknown): VirtioNetFaults {
  const o = object('', faults, KEYS);
  const out: VirtioNetFaults = {};
  if (o.rxNoBuffer !== undefined) {
    const r = object('rxNoBuffer', o.rxNoBuffer, ['probability', 'burst']);
    const burst = r.burst ?? 1;
    if (!Number.isSafeInteger(burst) || (burst as number) < 1) fail('rxNoBuffer.burst', 'an integer >= 1', r.burst);
    out.rxNoBuffer = { probability: probability('rxNoBuffer.probability', r.probability), burst: burst as number };
  }
  if (o.interruptDelay !== undefined) out.interruptDelay = delay('interruptDelay', o.interruptDelay);
  if (o.interruptLoss !== undefined) out.interruptLoss = probability('interruptLoss', o.interruptLoss);
  if (o.txCompletionDelay !== undefined) out.txCompletionDelay = delay('txCompletionDelay', o.txCompletionDelay);
  if (o.deviceReset !== undefined) out.deviceReset = probability('deviceReset', o.deviceReset);
  if (o.configInterruptLoss !== undefined) out.configInterruptLoss = probability('configInterruptLoss', o.configInterruptLoss);
  return out;
}

/** The device's fault draws. Only built when faults are configured. */
export class FaultDraws {
  private rxNoBufferLeft = 0;

  constructor(
    private readonly prng: Prng,
    readonly faults: VirtioNetFaults,
  ) {}

  /** The arriving frame finds no posted buffer. */
  rxNoBuffer(): boolean {
    if (this.rxNoBufferLeft > 0) {
      this.rxNoBufferLeft--;
      return true;
    }
    const f = this.faults.rxNoBuffer;
    if (f === undefined || !this.prng.chance(f.probability)) return false;
    this.rxNoBufferLeft = (f.burst ?? 1) - 1;
    return true;
  }

  /** An interrupt's fate: -1 lost, 0 on time, > 0 late by that many ns. */
  interrupt(): number {
    const loss = this.faults.interruptLoss;
    if (loss !== undefined && this.prng.chance(loss)) return -1;
    const d = this.faults.interruptDelay;
    if (d !== undefined && this.prng.chance(d.probability)) return 1 + this.prng.nextInt(d.maxNs);
    return 0;
  }

  /** The device fails and needs a reset while handling a frame (one draw, only when configured). */
  deviceReset(): boolean {
    const p = this.faults.deviceReset;
    return p !== undefined && this.prng.chance(p);
  }

  /** The configuration-change interrupt is lost (one draw, only when configured). */
  configInterruptLost(): boolean {
    const p = this.faults.configInterruptLoss;
    return p !== undefined && this.prng.chance(p);
  }

  /** A TX drain's completions: 0 on time, > 0 late by that many ns. */
  txCompletion(): number {
    const d = this.faults.txCompletionDelay;
    if (d !== undefined && this.prng.chance(d.probability)) return 1 + this.prng.nextInt(d.maxNs);
    return 0;
  }
}
