import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IcmpRateLimiter } from '../src/iface/icmp-rate-limit.js';

describe('IcmpRateLimiter (global bucket + per peer, Linux style)', () => {
  it('per peer: a burst of 6, then one per interval; peers are independent', () => {
    const l = new IcmpRateLimiter({ ratePerSec: 1e6, burst: 1e6, peerIntervalUs: 1_000_000, peerBurst: 6, maxPeers: 8 });
    const allowed = (peer: number, t: number, n: number): number => {
      let k = 0;
      for (let i = 0; i < n; i++) if (l.allow(peer, t)) k++;
      return k;
    };
    expect(allowed(1, 0, 20)).toBe(6);
    expect(allowed(2, 0, 20)).toBe(6);
    expect(allowed(1, 999_999_999, 5)).toBe(0);
    expect(allowed(1, 1e9, 5)).toBe(1);
    expect(allowed(1, 4e9, 5)).toBe(3);
  });

  it('global: the burst, then the rate, whatever the peers', () => {
    const l = new IcmpRateLimiter({ ratePerSec: 100, burst: 10, peerIntervalUs: 1, peerBurst: 1e6, maxPeers: 4096 });
    let k = 0;
    for (let i = 0; i < 1000; i++) if (l.allow(i, 0)) k++;
    expect(k).toBe(10);
    k = 0;
    for (let i = 0; i < 1000; i++) if (l.allow(i, 50e6)) k++; // 50 ms later: 5 more tokens
    expect(k).toBe(5);
  });

  it('never allows more than the global bucket holds, remembers at most maxPeers peers, and bounds each peer', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ peer: fc.nat(40), dt: fc.nat(300_000_000) }), { maxLength: 400 }), (events) => {
        const cfg = { ratePerSec: 20, burst: 5, peerIntervalUs: 100_000, peerBurst: 3, maxPeers: 16 };
        const l = new IcmpRateLimiter(cfg);
        let t = 0;
        let total = 0;
        for (const e of events) {
          t += e.dt;
          if (l.allow(e.peer, t)) total++;
          expect(l.peerCount).toBeLessThanOrEqual(16);
        }
        expect(total).toBeLessThanOrEqual(cfg.burst + (t * cfg.ratePerSec) / 1e9 + 1e-9);
      }),
    );
    // With a table large enough to forget no one, the per-peer bound holds exactly.
    fc.assert(
      fc.property(fc.array(fc.record({ peer: fc.nat(5), dt: fc.nat(300_000_000) }), { maxLength: 400 }), (events) => {
        const l = new IcmpRateLimiter({ ratePerSec: 1e9, burst: 1e9, peerIntervalUs: 100_000, peerBurst: 3, maxPeers: 16 });
        let t = 0;
        const perPeer = new Map<number, number>();
        for (const e of events) {
          t += e.dt;
          if (l.allow(e.peer, t)) perPeer.set(e.peer, (perPeer.get(e.peer) ?? 0) + 1);
        }
        for (const n of perPeer.values()) expect(n).toBeLessThanOrEqual(3 + t / 100e6 + 1e-9);
      }),
    );
  });
});
