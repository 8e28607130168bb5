/**
 * A simulation-free harness for the TCP layer (smoltcp style): two TcpStacks joined by a wire
 * with a virtual clock, explicit per-segment latency and a tap that can drop or rewrite
 * segments. Timers are events on the same clock. Deterministic, no Simulation needed.
 */
import { IOBuf, type TimerHandle } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish, ipv4, pseudoHeaderSum, TcpStack, type TcpConfig, type TcpEnv, DEFAULT_RTO } from '../src/index.js';
import { chainChecksumAdd } from '../src/wire/checksum.js';

const L4 = 46;

export interface Seg {
  from: number;
  /** Destination address (a segment to an address that is neither stack's is lost after the tap). */
  to: number;
  bytes: Uint8Array;
}

export class Harness {
  now = 0;
  private seq = 0;
  private events: Array<{ at: number; seq: number; fn: () => void; cancelled: boolean }> = [];
  readonly a: TcpStack;
  readonly b: TcpStack;
  readonly addrA = ipv4('10.0.0.1');
  readonly addrB = ipv4('10.0.0.2');
  /** Return false to drop; may rewrite bytes (then call fixChecksum). */
  tap: (s: Seg) => boolean = () => true;
  latencyNs = 20_000;
  log: string[] = [];

  constructor(
    config: Partial<TcpConfig> = {},
    private readonly envExtra: Partial<Pick<TcpEnv, 'randomU32' | 'secureIsn'>> = {},
  ) {
    const cfg: TcpConfig = {
      mss: 1460,
      receiveWindow: 256 * 1024,
      sendBuffer: 256 * 1024,
      rto: DEFAULT_RTO,
      maxRetries: 12,
      maxSynRetries: 6,
      mslNs: 1e9,
      synBacklog: 128,
      ...config,
    };
    this.a = this.stack(cfg, this.addrA, () => this.b);
    this.b = this.stack(cfg, this.addrB, () => this.a);
  }

  private stack(cfg: TcpConfig, addr: number, peer: () => TcpStack): TcpStack {
    return new TcpStack(cfg, {
      localAddress: () => addr,
      nowNs: () => this.now,
      allocFrame: (size) => IOBuf.allocate(size),
      l4Offset: L4,
      ipOutput: (chain, dst, len) => {
        const flat = chain.toUint8Array().slice(L4, L4 + len);
        chain.releaseChain();
        const seg = { from: addr, to: dst, bytes: flat };
        if (!this.tap(seg)) return;
        if (dst !== this.addrA && dst !== this.addrB) return; // nobody there: the address never answers
        this.at(this.now + this.latencyNs, () => {
          const s = peer();
          const frame = IOBuf.wrap(seg.bytes);
          if (!s.input(frame, seg.bytes, 0, seg.bytes.length, addr, dst)) frame.release();
        });
      },
      chainChecksumAdd,
      startTimer: (fn, us) => this.at(this.now + us * 1000, fn),
      post: (_core, fn) => fn(),
      numCores: 1,
      ...this.envExtra,
    });
  }

  /** Hands `bytes` (a TCP segment from `from`) to the stack at `to` now, as if off the wire. */
  inject(to: TcpStack, bytes: Uint8Array, from: number): boolean {
    const frame = IOBuf.wrap(bytes);
    const dst = to === this.a ? this.addrA : this.addrB;
    const kept = to.input(frame, bytes, 0, bytes.length, from, dst);
    if (!kept) frame.release();
    return kept;
  }

  at(atNs: number, fn: () => void): TimerHandle {
    const e = { at: atNs, seq: this.seq++, fn, cancelled: false };
    this.events.push(e);
    const h = {
      stop: () => {
        e.cancelled = true;
      },
      get active() {
        return !e.cancelled && !fired.has(e);
      },
    };
    return h;
  }

  /** Runs events in time order until none is left before `untilNs` (bounded by `maxEvents`). */
  run(untilNs: number, maxEvents = 2_000_000): void {
    for (let n = 0; n < maxEvents; n++) {
      let best = -1;
      for (let i = 0; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (best < 0 || e.at < this.events[best]!.at || (e.at === this.events[best]!.at && e.seq < this.events[best]!.seq)) best = i;
      }
      if (best < 0) return;
      const e = this.events[best]!;
      if (e.at > untilNs) {
        this.now = untilNs;
        return;
      }
      this.events.splice(best, 1);
      this.now = Math.max(this.now, e.at);
      if (e.cancelled) continue;
      fired.add(e);
      e.fn();
    }
    throw new Error('harness: event bound reached');
  }
}

const fired = new WeakSet<object>();

/** Recomputes the TCP checksum of a rewritten segment. */
export function fixChecksum(b: Uint8Array, src: number, dst: number): void {
  b[16] = 0;
  b[17] = 0;
  const c = checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, 6, b.length), b, 0, b.length));
  b[16] = c >> 8;
  b[17] = c & 0xff;
}

export const flags = (b: Uint8Array): number => b[13]!;
export const windowOf = (b: Uint8Array): number => (b[14]! << 8) | b[15]!;
export const payloadLen = (b: Uint8Array): number => b.length - (b[12]! >> 4) * 4;

/** A crafted TCP segment (checksummed), options as raw bytes (may be malformed on purpose). */
export function craft(
  src: number,
  dst: number,
  f: { sport: number; dport: number; seq: number; ack?: number; flags: number; window?: number; options?: number[]; payload?: Uint8Array },
): Uint8Array {
  const opts = f.options ?? [];
  const optLen = (opts.length + 3) & ~3;
  const hl = 20 + optLen;
  const pay = f.payload ?? new Uint8Array(0);
  const b = new Uint8Array(hl + pay.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, f.sport);
  dv.setUint16(2, f.dport);
  dv.setUint32(4, f.seq >>> 0);
  dv.setUint32(8, (f.ack ?? 0) >>> 0);
  b[12] = (hl / 4) << 4;
  b[13] = f.flags;
  dv.setUint16(14, f.window ?? 65535);
  b.set(opts, 20);
  b.set(pay, hl);
  fixChecksum(b, src, dst);
  return b;
}

export const seqOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(4);
export const ackOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(8);
