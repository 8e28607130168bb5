/**
 * The request mix of the load generator: a key space of fixed-size keys, GET/SET at a ratio, and
 * every request prebuilt once (one GET and one SET per key) so that issuing one is a copy plus an
 * opaque patch. Choices come from a seeded xorshift32: the same seed gives the same sequence.
 */
import { Xorshift32 } from './prng.js';
import { encodeRequest, getRequestBytes, OP_GET, OP_SET, setOpaque, setRequestBytes } from './memcache-binary.js';

export interface WorkloadOptions {
  /** Key length in bytes (default 16). */
  keyBytes?: number;
  /** Value length of SETs in bytes (default 32). */
  valueBytes?: number;
  /** Fraction of requests that are GETs (default 0.9: memcaslap's 9:1). */
  getRatio?: number;
  /** Distinct keys (default 10,000), drawn uniformly. */
  keys?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

export interface ResolvedWorkload {
  keyBytes: number;
  valueBytes: number;
  getRatio: number;
  keys: number;
  seed: number;
}

export function resolveWorkload(o: WorkloadOptions = {}): ResolvedWorkload {
  const w = { keyBytes: o.keyBytes ?? 16, valueBytes: o.valueBytes ?? 32, getRatio: o.getRatio ?? 0.9, keys: o.keys ?? 10_000, seed: o.seed ?? 1 };
  if (!Number.isInteger(w.keyBytes) || w.keyBytes < 8 || w.keyBytes > 250) throw new RangeError(`workload keyBytes must be an integer in 8..250, got ${o.keyBytes}`);
  if (!Number.isInteger(w.valueBytes) || w.valueBytes < 0 || w.valueBytes > 1024 * 1024) throw new RangeError(`workload valueBytes must be an integer in 0..1048576, got ${o.valueBytes}`);
  if (!(w.getRatio >= 0 && w.getRatio <= 1)) throw new RangeError(`workload getRatio must be in [0, 1], got ${o.getRatio}`);
  if (!Number.isInteger(w.keys) || w.keys < 1 || w.keys > 10 ** (w.keyBytes - 4)) throw new RangeError(`workload keys must be an integer in 1..${Math.min(1e12, 10 ** (w.keyBytes - 4))} for ${w.keyBytes}-byte keys, got ${o.keys}`);
  if (!Number.isInteger(w.seed)) throw new RangeError(`workload seed must be an integer, got ${o.seed}`);
  return w;
}

/** `key:` and the index, zero-padded to `keyBytes` (so every key has the same length). */
export function keyOf(index: number, keyBytes: number): Uint8Array {
  const s = `key:${String(index).padStart(keyBytes - 4, '0')}`;
  return new TextEncoder().encode(s);
}

export class Workload {
  readonly options: ResolvedWorkload;
  private readonly gets: Uint8Array;
  private readonly sets: Uint8Array;
  private readonly getLen: number;
  private readonly setLen: number;
  private readonly rng: Xorshift32;
  /** The op of the last request `write` produced. */
  lastOp: typeof OP_GET | typeof OP_SET = OP_GET;

  constructor(options: WorkloadOptions = {}) {
    this.options = resolveWorkload(options);
    const { keyBytes, valueBytes, keys, seed } = this.options;
    this.getLen = getRequestBytes(keyBytes);
    this.setLen = setRequestBytes(keyBytes, valueBytes);
    this.gets = new Uint8Array(this.getLen * keys);
    this.sets = new Uint8Array(this.setLen * keys);
    const value = new Uint8Array(valueBytes).fill(0x61);
    for (let k = 0; k < keys; k++) {
      const key = keyOf(k, keyBytes);
      encodeRequest(this.gets, k * this.getLen, OP_GET, key, undefined, 0);
      encodeRequest(this.sets, k * this.setLen, OP_SET, key, value, 0);
    }
    this.rng = new Xorshift32(seed);
  }

  /** The longest request this workload writes. */
  get maxRequestBytes(): number {
    return Math.max(this.getLen, this.setLen);
  }

  /** Writes the next request of the mix at `out[at]` with `opaque`; returns its length. */
  write(out: Uint8Array, at: number, opaque: number): number {
    const isGet = this.rng.next() < this.options.getRatio;
    const k = Math.floor(this.rng.next() * this.options.keys);
    return isGet ? this.copy(out, at, OP_GET, k, opaque) : this.copy(out, at, OP_SET, k, opaque);
  }

  /** Writes the SET of key `k` (for filling the key space before a run). */
  writeSet(out: Uint8Array, at: number, k: number, opaque: number): number {
    return this.copy(out, at, OP_SET, k, opaque);
  }

  private copy(out: Uint8Array, at: number, op: typeof OP_GET | typeof OP_SET, k: number, opaque: number): number {
    const len = op === OP_GET ? this.getLen : this.setLen;
    const src = op === OP_GET ? this.gets : this.sets;
    // A byte loop, not set(subarray): no view allocated per request (a request is 40-72 bytes).
    for (let j = 0, from = k * len; j < len; j++) out[at + j] = src[from + j]!;
    setOpaque(out, at, opaque);
    this.lastOp = op;
    return len;
  }
}
