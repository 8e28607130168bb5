import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadEngine, type LoadConnection } from '../src/loadgen/engine.js';
import { encodeRequest, FramingError, HEADER_BYTES, OP_GET, OP_SET, ResponseParser } from '../src/loadgen/memcache-binary.js';
import { OpenLoopSchedule } from '../src/loadgen/pacing.js';
import { searchMaxRate } from '../src/loadgen/rate-search.js';
import { Workload } from '../src/loadgen/workload.js';

/** A binary response: header + `body` bytes (opaque and status set). */
function response(op: number, status: number, opaque: number, body: number): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES + body).fill(0x5a);
  b.fill(0, 0, HEADER_BYTES);
  b[0] = 0x81;
  b[1] = op;
  b[6] = status >> 8;
  b[7] = status & 0xff;
  new DataView(b.buffer).setUint32(8, body);
  new DataView(b.buffer).setUint32(12, opaque);
  return b;
}

describe('ResponseParser', () => {
  it('yields the same responses however the stream is split or coalesced (property)', () => {
    const resp = fc.record({ op: fc.constantFrom(OP_GET, OP_SET), status: fc.constantFrom(0, 1), opaque: fc.nat({ max: 0xffffffff }), body: fc.nat({ max: 300 }) });
    fc.assert(
      fc.property(fc.array(resp, { minLength: 1, maxLength: 30 }), fc.array(fc.nat({ max: 400 }), { maxLength: 40 }), (rs, cuts) => {
        const parts = rs.map((r) => response(r.op, r.status, r.opaque, r.body));
        const stream = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
        let at = 0;
        for (const p of parts) (stream.set(p, at), (at += p.length));
        const seen: { op: number; status: number; opaque: number; body: number }[] = [];
        const parser = new ResponseParser((op, status, opaque, body) => seen.push({ op, status, opaque, body }));
        // Cut points anywhere (0-length pieces included), fed through offset/length of one buffer.
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        let prev = 0;
        for (const p of [...points, stream.length]) {
          parser.feed(stream, prev, p - prev);
          prev = p;
        }
        expect(seen).toEqual(rs);
        expect(parser.idle).toBe(true);
      }),
    );
  });

  it('reports a stream out of step, naming the byte, and stays failed', () => {
    const parser = new ResponseParser(() => undefined);
    parser.feed(response(OP_GET, 0, 1, 4));
    const bad = response(OP_GET, 0, 2, 0);
    bad[0] = 0x45;
    expect(() => parser.feed(bad)).toThrow(/magic 0x81\) after 1 responses, got byte 0x45/);
    expect(() => parser.feed(response(OP_GET, 0, 3, 0))).toThrow(FramingError);
  });

  it('encodes GET and SET as memcached expects', () => {
    const out = new Uint8Array(100);
    const key = new TextEncoder().encode('key:000000000042');
    const n = encodeRequest(out, 3, OP_SET, key, new Uint8Array([1, 2, 3]), 0x01020304);
    expect(n).toBe(24 + 8 + 16 + 3);
    expect([...out.subarray(3, 3 + 16)]).toEqual([0x80, 1, 0, 16, 8, 0, 0, 0, 0, 0, 0, 27, 1, 2, 3, 4]);
    expect(new TextDecoder().decode(out.subarray(3 + 32, 3 + 48))).toBe('key:000000000042');
    expect([...out.subarray(3 + 48, 3 + 51)]).toEqual([1, 2, 3]);
    expect(() => encodeRequest(new Uint8Array(10), 0, OP_GET, key, undefined, 0)).toThrow(/does not fit/);
  });
});

describe('OpenLoopSchedule', () => {
  it('uniform: request k is intended at start + k/rate, whenever it is taken', () => {
    const s = new OpenLoopSchedule({ rate: 1000, startNs: 5e6, arrivals: 'uniform' });
    expect(Number.isNaN(s.take(4.99e6))).toBe(true);
    // A generator that wakes late takes the overdue ones at once, with their intended times.
    const late: number[] = [];
    let t: number;
    while (!Number.isNaN((t = s.take(5e6 + 10.5e6)))) late.push(t);
    expect(late).toEqual(Array.from({ length: 11 }, (_, k) => 5e6 + k * 1e6));
  });

  it('poisson: nondecreasing, mean gap 1/rate, deterministic by seed (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 1e6 }), fc.integer(), (rate, seed) => {
        const a = new OpenLoopSchedule({ rate, startNs: 0, seed });
        const b = new OpenLoopSchedule({ rate, startNs: 0, seed });
        const n = 4000;
        let prev = -1;
        for (let i = 0; i < n; i++) {
          const t = a.take(Infinity);
          expect(t).toBeGreaterThanOrEqual(prev);
          expect(b.take(Infinity)).toBe(t);
          prev = t;
        }
        // 4000 exponential gaps: the mean is within ~6 standard errors (1/sqrt(4000) = 1.6 %).
        expect(prev / (n - 1) / (1e9 / rate)).toBeGreaterThan(0.9);
        expect(prev / (n - 1) / (1e9 / rate)).toBeLessThan(1.1);
      }),
      { numRuns: 20 },
    );
  });

  it('rejects a bad rate', () => {
    expect(() => new OpenLoopSchedule({ rate: 0, startNs: 0 })).toThrow(/rate must be a positive/);
  });
});

/** A fake server on the far side of LoadConnection: answers each request after `delayNs`. */
function harness(delayNs: number, connections: number, rate: number) {
  const engine = new LoadEngine({ mode: { kind: 'open', rate, arrivals: 'uniform' }, connections, warmupNs: 1e6, durationNs: 10e6, drainNs: 5e6, workload: { keys: 50 } });
  const inflight: { at: number; conn: number; bytes: Uint8Array }[] = [];
  let now = 0;
  const parsers = Array.from({ length: connections }, () => new Uint8Array(0));
  for (let i = 0; i < connections; i++) {
    const conn: LoadConnection = {
      write(buf, len) {
        // Split the client's bytes into requests and queue one response per request.
        let acc = new Uint8Array(parsers[i]!.length + len);
        acc.set(parsers[i]!);
        acc.set(buf.subarray(0, len), parsers[i]!.length);
        let off = 0;
        while (acc.length - off >= 24) {
          const total = 24 + new DataView(acc.buffer, acc.byteOffset + off).getUint32(8);
          if (acc.length - off < total) break;
          const op = acc[off + 1]!;
          const opaque = new DataView(acc.buffer, acc.byteOffset + off).getUint32(12);
          inflight.push({ at: now + delayNs, conn: i, bytes: response(op, 0, opaque, op === OP_GET ? 36 : 0) });
          off += total;
        }
        acc = acc.slice(off);
        parsers[i] = acc;
      },
    };
    engine.attach(i, conn);
  }
  const step = (to: number): void => {
    while (now < to) {
      now += 1000;
      inflight.sort((a, b) => a.at - b.at);
      while (inflight.length > 0 && inflight[0]!.at <= now) {
        const r = inflight.shift()!;
        engine.receive(r.conn, r.bytes, 0, r.bytes.length, now);
      }
      engine.pump(now);
    }
  };
  /** The generator's loop stalls until `to`: one pump then, with everything overdue. */
  const jump = (to: number): void => {
    now = to;
    engine.pump(now);
  };
  return { engine, step, jump, now: () => now };
}

describe('LoadEngine', () => {
  it('open loop: measures from the intended time, counts the window, fills first', () => {
    const h = harness(50_000, 4, 100_000);
    let filled = false;
    h.engine.fill(0, () => (filled = true));
    h.step(200_000);
    expect(filled).toBe(true);
    h.engine.start(h.now());
    h.step(h.now() + 30e6);
    expect(h.engine.done).toBe(true);
    const r = h.engine.result();
    // 10 ms at 100k/s: 1000 requests in the window, every one answered 50 µs (+ < 1 µs step) later.
    expect(r.requests).toBe(1000);
    expect(r.count).toBe(1000);
    expect(r.unanswered).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.p50Ns).toBeGreaterThanOrEqual(50_000);
    expect(r.p999Ns).toBeLessThan(52_000);
  });

  it('a generator stall shows in the tail: latency counts from the intended time (no coordinated omission)', () => {
    const h = harness(20_000, 2, 100_000);
    h.engine.fill(0, () => undefined);
    h.step(100_000);
    h.engine.start(h.now());
    h.step(h.now() + 5e6);
    // 3 ms without a pump (a stalled event loop): the 300 requests due then go out at once.
    h.jump(h.now() + 3e6);
    h.step(h.now() + 30e6);
    const r = h.engine.result();
    expect(r.count).toBe(1000);
    expect(r.p50Ns).toBeLessThan(30_000);
    expect(r.p99Ns).toBeGreaterThan(2.5e6);
    expect(r.sendLagP99Ns).toBeGreaterThan(2.5e6);
  });

  it('requests never answered are recorded at the drain deadline and counted', () => {
    const engine = new LoadEngine({ mode: { kind: 'open', rate: 10_000, arrivals: 'uniform' }, connections: 1, warmupNs: 0, durationNs: 1e6, drainNs: 1e6, workload: { keys: 1 } });
    engine.attach(0, { write: () => undefined });
    engine.start(0);
    for (let t = 0; t <= 3e6; t += 1e5) engine.pump(t);
    const r = engine.result();
    expect(engine.done).toBe(true);
    expect(r.requests).toBe(10);
    expect(r.unanswered).toBe(10);
    expect(r.p50Ns).toBeGreaterThanOrEqual(1e6);
  });

  it('a response nobody asked for ends the run with a clear error', () => {
    const engine = new LoadEngine({ mode: { kind: 'closed' }, connections: 1, workload: { keys: 1 } });
    engine.attach(0, { write: () => undefined });
    engine.start(0);
    const r = response(OP_GET, 0, 999, 0);
    engine.receive(0, r, 0, r.length, 10);
    expect(engine.done).toBe(true);
    expect(engine.result().errors[0]).toMatch(/opaque 999 that no outstanding request has/);
  });
});

describe('Workload', () => {
  it('writes the 9:1 mix of fixed-size keys, deterministic by seed', () => {
    const a = new Workload({ seed: 3 });
    const b = new Workload({ seed: 3 });
    const buf = new Uint8Array(200);
    let gets = 0;
    for (let i = 0; i < 5000; i++) {
      const n = a.write(buf, 0, i);
      expect(b.write(new Uint8Array(200), 0, i)).toBe(n);
      expect(new DataView(buf.buffer).getUint32(12)).toBe(i);
      if (buf[1] === OP_GET) (gets++, expect(n).toBe(24 + 16));
      else expect(n).toBe(24 + 8 + 16 + 32);
    }
    expect(gets / 5000).toBeGreaterThan(0.87);
    expect(gets / 5000).toBeLessThan(0.93);
    expect(() => new Workload({ keyBytes: 4 })).toThrow(/keyBytes must be an integer in 8..250/);
  });
});

describe('searchMaxRate', () => {
  it('brackets the knee of a monotone server', async () => {
    const knee = 37_000;
    const r = await searchMaxRate(async (rate) => ({ rate, p99Ns: rate < knee ? 100_000 : 5e6, ok: rate < knee }), { lo: 1000, hi: 100_000, steps: 10 });
    expect(r.bestRate).toBeLessThan(knee);
    expect(r.bestRate).toBeGreaterThan(knee * 0.98);
    expect(r.probes).toHaveLength(11);
  });
  it('answers 0 when even lo fails', async () => {
    const r = await searchMaxRate(async (rate) => ({ rate, p99Ns: 1e9, ok: false }), { lo: 10, hi: 100 });
    expect(r).toEqual({ bestRate: 0, probes: [{ rate: 10, p99Ns: 1e9, ok: false }] });
  });
});

describe('OpenLoopSchedule is independent of when the generator wakes', () => {
  it('any sequence of wake-ups takes the same intended times, each once, in order, only when due (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'uniform' | 'poisson'>('uniform', 'poisson'),
        fc.integer({ min: 1000, max: 200_000 }),
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 3_000_000 }), { minLength: 1, maxLength: 200 }),
        (arrivals, rate, seed, gaps) => {
          const ref = new OpenLoopSchedule({ rate, startNs: 1e6, arrivals, seed });
          const s = new OpenLoopSchedule({ rate, startNs: 1e6, arrivals, seed });
          let now = 1e6;
          for (const g of gaps) {
            now += g;
            let t: number;
            while (!Number.isNaN((t = s.take(now)))) {
              // The same intended time as a generator that was never late, and due by now.
              expect(t).toBe(ref.take(Infinity));
              expect(t).toBeLessThanOrEqual(now);
            }
            // Whatever is left is not due yet.
            expect(s.peek()).toBeGreaterThan(now);
            expect(s.peek()).toBe(ref.peek());
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

/**
 * A fake transport with a clock that each write advances (a generator whose sends cost time),
 * a server that answers `delayNs` after the bytes arrive, and pumps at the given gaps (stalls
 * included). A negative gap is a stall of the whole generator: nothing is received either, and the
 * replies that arrived meanwhile are read after it. It records, independently of the engine, when
 * each opaque was sent and answered.
 */
function timedHarness(o: { connections: number; rate: number; writeNs: number; delayNs: number; gaps: number[] }) {
  let now = 0;
  const sentAt = new Map<number, number>();
  const doneAt = new Map<number, number>();
  const queue: { at: number; conn: number; bytes: Uint8Array; opaque: number }[] = [];
  const engine = new LoadEngine({ mode: { kind: 'open', rate: o.rate, arrivals: 'uniform' }, connections: o.connections, warmupNs: 1e6, durationNs: 5e6, drainNs: 20e6, workload: { keys: 20 }, clock: () => now });
  for (let i = 0; i < o.connections; i++) {
    engine.attach(i, {
      write(buf, len) {
        // Requests are whole in each write; the bytes leave now, then the write costs writeNs.
        for (let off = 0; off < len; ) {
          const dv = new DataView(buf.buffer, buf.byteOffset + off);
          const opaque = dv.getUint32(12);
          sentAt.set(opaque, now);
          const op = buf[off + 1]!;
          queue.push({ at: now + o.delayNs, conn: i, bytes: response(op, 0, opaque, op === OP_GET ? 32 : 0), opaque });
          off += 24 + dv.getUint32(8);
        }
        now += o.writeNs;
      },
    });
  }
  const deliverUntil = (t: number): void => {
    queue.sort((a, b) => a.at - b.at);
    while (queue.length > 0 && queue[0]!.at <= t) {
      const r = queue.shift()!;
      if (r.at > now) now = r.at;
      doneAt.set(r.opaque, now);
      engine.receive(r.conn, r.bytes, 0, r.bytes.length, now);
      queue.sort((a, b) => a.at - b.at);
    }
    if (t > now) now = t;
  };
  engine.fill(0, () => undefined);
  deliverUntil(1e6);
  const startNs = now;
  engine.start(startNs);
  let g = 0;
  while (!engine.done) {
    const gap = o.gaps[g++ % o.gaps.length]!;
    if (gap < 0) now += -gap;
    deliverUntil(now + Math.max(gap, 0));
    engine.pump(now);
  }
  return { engine, startNs, sentAt, doneAt };
}

/** The value an HDR histogram (3 digits) reports at percentile p of `xs`: within 0.1 %. */
function expectPercentile(actual: number, xs: number[], p: number): void {
  const sorted = [...xs].sort((a, b) => a - b);
  const exact = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  expect(Math.abs(actual - exact)).toBeLessThanOrEqual(exact * 0.001 + 1);
}

describe('LoadEngine: lateness and the correction', () => {
  it('lateness = actual send - intended, latency = response - intended, uncorrected = response - actual send, per request (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 20_000, max: 400_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1_000, max: 300_000 }),
        fc.array(fc.oneof(fc.integer({ min: 1_000, max: 50_000 }), fc.integer({ min: 200_000, max: 2_000_000 }), fc.integer({ min: -2_000_000, max: -1 })), { minLength: 1, maxLength: 30 }),
        (connections, rate, writeNs, delayNs, gaps) => {
          const h = timedHarness({ connections, rate, writeNs, delayNs, gaps });
          const r = h.engine.result();
          expect(r.errors).toEqual([]);
          // Request k of the schedule (uniform) is opaque keys + k, intended at start + k / rate.
          const interval = 1e9 / rate;
          const late: number[] = [];
          const corrected: number[] = [];
          const uncorrected: number[] = [];
          for (let k = 0; ; k++) {
            const intended = h.startNs + k * interval;
            if (intended >= h.startNs + 6e6) break;
            if (intended < h.startNs + 1e6) continue;
            const sent = h.sentAt.get(20 + k);
            const done = h.doneAt.get(20 + k);
            expect(sent).toBeDefined();
            expect(done).toBeDefined();
            expect(sent!).toBeGreaterThanOrEqual(intended);
            late.push(sent! - intended);
            corrected.push(done! - intended);
            uncorrected.push(done! - sent!);
          }
          expect(r.requests).toBe(late.length);
          expect(r.lateness.count).toBe(late.length);
          expect(r.count).toBe(late.length);
          expect(r.unanswered).toBe(0);
          for (const p of [50, 99, 100]) {
            expectPercentile(h.engine.lateness.percentile(p), late, p);
            expectPercentile(h.engine.latency.percentile(p), corrected, p);
            expectPercentile(h.engine.uncorrected.percentile(p), uncorrected, p);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a generator stalled for 1 ms shows as lateness and in the corrected tail, which the uncorrected latency hides', () => {
    // 100k/s, replies 30 µs after the send, pumps every 5 µs, and one 1 ms stall 1 ms into the 5 ms window.
    const gaps = [...Array<number>(400).fill(5_000), -1_000_000, ...Array<number>(4000).fill(5_000)];
    const h = timedHarness({ connections: 4, rate: 100_000, writeNs: 0, delayNs: 30_000, gaps });
    const r = h.engine.result();
    expect(r.requests).toBe(500);
    // ~100 of the 500 requests fell due in the stall: 20 % were sent late, by up to 1 ms.
    expect(r.lateness.maxNs).toBeGreaterThan(0.95e6);
    expect(h.engine.lateness.percentile(90)).toBeGreaterThan(0.4e6);
    expect(h.engine.latency.percentile(90)).toBeGreaterThan(0.4e6);
    // From the actual send, only the few replies that arrived during the stall look slow.
    expect(r.uncorrected.p99Ns).toBeLessThan(36_000);
    expect(r.uncorrected.p50Ns).toBeLessThan(36_000);
  });

  it('sends what fell due while replies were being received, without waiting for the next pump', () => {
    // Pumps only every 3 ms, but replies arrive every 30 µs: the receive path sends on time.
    const h = timedHarness({ connections: 2, rate: 50_000, writeNs: 0, delayNs: 30_000, gaps: [3_000_000] });
    const r = h.engine.result();
    expect(r.errors).toEqual([]);
    expect(r.lateness.p50Ns).toBeLessThan(31_000);
  });
});
