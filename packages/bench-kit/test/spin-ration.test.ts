import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpinRation } from '../src/loadgen/spin-ration.js';

describe('SpinRation', () => {
  it('spins only within spinNs of the due time, sleeps until spinNs before it otherwise, and never spins more than its share of a period (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 200_000 }), due: fc.integer({ min: -50_000, max: 2_000_000 }) }), { minLength: 1, maxLength: 3000 }),
        (spinNs, share, steps) => {
          const periodNs = 10e6;
          const r = new SpinRation({ spinNs, share, periodNs });
          let now = 0;
          let spinningSince = Number.NaN;
          // Spin time per period, counted here from the decisions alone.
          let periodStart = 0;
          let spent = 0;
          let maxGap = 0;
          for (const { gap, due } of steps) {
            now += gap;
            if (!Number.isNaN(spinningSince)) {
              spent += now - spinningSince;
              maxGap = Math.max(maxGap, gap);
            }
            if (now - periodStart > periodNs) {
              periodStart = now;
              spent = 0;
            }
            const next = now + due;
            const d = r.decide(now, next);
            if (d.kind === 'spin') {
              expect(next - now).toBeLessThanOrEqual(spinNs);
              spinningSince = now;
            } else {
              spinningSince = Number.NaN;
              expect(d.untilNs).toBeGreaterThanOrEqual(next - spinNs);
              expect(d.untilNs).toBeLessThanOrEqual(next);
            }
            // The budget can be overrun by at most the one gap that crossed it.
            expect(spent).toBeLessThanOrEqual(share * periodNs + maxGap);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a loop that would spin without end (a request due every 20 µs) spins 30 % of each period, then sleeps to the due time', () => {
    const r = new SpinRation({ spinNs: 60_000, share: 0.3, periodNs: 100e6 });
    let spun = 0;
    for (let now = 0; now < 100e6; now += 10_000) if (r.decide(now, now + 20_000).kind === 'spin') spun += 10_000;
    expect(spun).toBeGreaterThanOrEqual(0.29 * 100e6);
    expect(spun).toBeLessThanOrEqual(0.31 * 100e6);
    expect(r.decide(100e6 - 1, 100e6 + 5_000)).toEqual({ kind: 'sleep', untilNs: 100e6 + 5_000 });
  });

  it('names a bad option', () => {
    expect(() => new SpinRation({ spinNs: -1 })).toThrow(/spinNs must be a non-negative number of ns, got -1/);
    expect(() => new SpinRation({ spinNs: 0, share: 2 })).toThrow(/spin share must be in 0..1, got 2/);
    expect(() => new SpinRation({ spinNs: 0, periodNs: 0 })).toThrow(/spin period must be a positive/);
  });
});
