/**
 * A simulation-free harness for the TCP layer (smoltcp style): two TcpStacks joined by a wire
 * with a virtual clock, explicit per-segment latency and a tap that can drop or rewrite
 * segments. Timers are events on the same clock. Deterministic, no Simulation needed.
 */
import { IOBuf, type TimerHandle } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish, ipv4, pseudoHeaderSum, TcpStack, type TcpConfig, DEFAULT_RTO } from '../src/index.js';
import { chainChecksumAdd } from '../src/wire/checksum.js';

const L4 = 46;

export interface Seg {
  from: number;
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

  constructor(config: Partial<TcpConfig> = {}) {
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
        const seg = { from: addr, bytes: flat };
        if (!this.tap(seg)) return;
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
    });
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
