/**
 * The checker's seeded workload: a mix of get/gets/set/add/append/cas/delete/incr/decr over a few
 * keys per connection, and the ASCII bytes of each request. Drawn from the run's seed alone
 * (mulberry32), so a seed replays the same requests.
 */
import type { Op } from './model.js';

/** mulberry32: tiny, fast and good enough to pick operations; never Math.random (determinism). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 ^ 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Value bytes, sometimes with CR LF inside (a value is length-framed) and sometimes many segments long. */
function value(rng: Rng): string {
  const r = rng.next();
  if (r < 0.3) return String(rng.int(100_000));
  const len = r < 0.9 ? 1 + rng.int(200) : 1000 + rng.int(5000);
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = rng.int(40);
    s += c === 0 ? '\r' : c === 1 ? '\n' : String.fromCharCode(97 + (c % 26));
  }
  return s;
}

/** The next request on a connection that owns `keys`. */
export function nextOp(rng: Rng, keys: readonly string[]): Op {
  const key = rng.pick(keys);
  const r = rng.int(100);
  const flags = rng.int(4) === 0 ? rng.int(65536) : 0;
  if (r < 22) return { kind: 'set', key, value: value(rng), flags };
  if (r < 27) return { kind: 'add', key, value: value(rng), flags };
  if (r < 31) return { kind: 'append', key, value: value(rng), flags: 0 };
  if (r < 50) {
    const n = 1 + rng.int(3);
    const ks = [...new Set(Array.from({ length: n }, () => rng.pick(keys)))];
    return { kind: 'get', keys: ks };
  }
  if (r < 60) return { kind: 'gets', key };
  if (r < 70) return { kind: 'cas', key, value: value(rng), flags, stale: rng.int(4) === 0 };
  if (r < 78) return { kind: 'delete', key };
  if (r < 92) return { kind: 'incr', key, delta: BigInt(rng.int(1000)) };
  return { kind: 'decr', key, delta: BigInt(rng.int(1000)) };
}

/** The ASCII request for `op`; a cas needs its unique (the model's). */
export function encode(op: Op, cas: string): string {
  switch (op.kind) {
    case 'set':
    case 'add':
    case 'append':
      return `${op.kind} ${op.key} ${op.flags} 0 ${op.value.length}\r\n${op.value}\r\n`;
    case 'cas':
      return `cas ${op.key} ${op.flags} 0 ${op.value.length} ${cas}\r\n${op.value}\r\n`;
    case 'get':
      return `get ${op.keys.join(' ')}\r\n`;
    case 'gets':
      return `gets ${op.key}\r\n`;
    case 'delete':
      return `delete ${op.key}\r\n`;
    case 'incr':
    case 'decr':
      return `${op.kind} ${op.key} ${op.delta}\r\n`;
  }
}

/** Whether the reply to `op` is a get's values (ending in END) rather than one line. */
export const expectsValues = (op: Op): boolean => op.kind === 'get' || op.kind === 'gets';
