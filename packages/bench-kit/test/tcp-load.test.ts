import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, OP_GET } from '../src/loadgen/memcache-binary.js';
import { Pacer } from '../src/loadgen/pacer.js';
import { runTcpLoad } from '../src/loadgen/tcp-client.js';

/** A minimal memcached binary server on loopback: answers every request, GETs with 32 B. */
function fakeMemcached(): Server {
  return createServer((s) => {
    let acc: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      acc = acc.length === 0 ? d : Buffer.concat([acc, d]);
      const out: Buffer[] = [];
      let off = 0;
      while (acc.length - off >= HEADER_BYTES) {
        const total = HEADER_BYTES + acc.readUInt32BE(off + 8);
        if (acc.length - off < total) break;
        const op = acc[off + 1]!;
        const body = op === OP_GET ? 36 : 0;
        const r = Buffer.alloc(HEADER_BYTES + body);
        r[0] = 0x81;
        r[1] = op;
        r.writeUInt32BE(body, 8);
        acc.copy(r, 12, off + 12, off + 16);
        out.push(r);
        off += total;
      }
      acc = acc.subarray(off);
      if (out.length > 0) s.write(Buffer.concat(out));
    });
    s.on('error', () => undefined);
  });
}

describe('runTcpLoad over node:net', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = fakeMemcached();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const pacing of ['pacer', 'spin'] as const) {
    it(`${pacing}: sends every scheduled request of the window once, each answered, lateness recorded for each`, async () => {
      const r = await runTcpLoad({ host: '127.0.0.1', port, connections: 4, pacing, mode: { kind: 'open', rate: 2000, arrivals: 'uniform' }, warmupNs: 0.05e9, durationNs: 0.25e9, drainNs: 2e9, workload: { keys: 100 } });
      expect(r.errors).toEqual([]);
      // Uniform at 2000/s over 0.25 s: exactly 500 intended times fall in the window.
      expect(r.requests).toBe(500);
      expect(r.count).toBe(500);
      expect(r.unanswered).toBe(0);
      expect(r.lateness.count).toBe(500);
      expect(r.uncorrected.count).toBe(500);
      // Corrected latency = uncorrected + lateness, request by request: never below it.
      expect(r.maxNs).toBeGreaterThanOrEqual(r.uncorrected.maxNs);
      expect(r.getMisses).toBe(0);
      expect(r.sent).toBeGreaterThanOrEqual(500);
      expect(r.cpuNsPerRequest).toBeGreaterThan(0);
    });
  }
});

describe('Pacer', () => {
  it('wakes the main thread only once the armed deadline has passed, once per arm, never while disarmed', async () => {
    const wakes: number[] = [];
    let target = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const pacer = new Pacer({
      onWake: () => {
        wakes.push(performance.now() - target);
        if (wakes.length === 20) {
          pacer.arm(Number.NaN);
          setTimeout(done, 50);
          return;
        }
        target = performance.now() + 0.2;
        pacer.arm(target);
      },
    });
    await pacer.ready;
    target = performance.now() + 0.2;
    pacer.arm(target);
    await finished;
    await pacer.stop();
    // 20 wake-ups, none early (disarmed: no 21st in the 50 ms after).
    expect(wakes).toHaveLength(20);
    for (const w of wakes) expect(w).toBeGreaterThanOrEqual(0);
  });

  it('rejects a bad realtime priority by name, before starting its thread', () => {
    expect(() => new Pacer({ onWake: () => undefined, realtime: 200 })).toThrow(/realtime priority must be an integer in 1..99, got 200/);
  });
});
