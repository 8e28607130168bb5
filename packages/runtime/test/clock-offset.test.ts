/**
 * The dashboard's clock mapping for a remote node's trace: with any true offset and any ask /
 * answer delays, the true offset stays inside the estimate's bounds, the bounds only narrow while
 * the node's clock is steady, and a clock that jumps (a restarted node process) is followed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockOffset } from '../src/cli/clock-offset.js';

/** An exchange: the ask goes out at `at`, the node answers `there` ns later, the answer comes back `back` ns after that. */
const exchange = fc.record({ gap: fc.integer({ min: 0, max: 1e9 }), there: fc.integer({ min: 0, max: 5e7 }), back: fc.integer({ min: 0, max: 5e7 }) });

describe('ClockOffset', () => {
  it('the true offset is within ±errorNs of the estimate after every sample, and the error never grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.array(exchange, { minLength: 1, maxLength: 30 }), (trueOffset, xs) => {
        const c = new ClockOffset();
        expect(c.offsetNs).toBeUndefined();
        let at = 1e9;
        let error = Infinity;
        for (const x of xs) {
          at += x.gap;
          const answered = at + x.there;
          c.sample(at, answered + x.back, answered - trueOffset);
          // One ns of rounding on the midpoint.
          expect(Math.abs(c.offsetNs! - trueOffset)).toBeLessThanOrEqual(c.errorNs + 1);
          expect(c.errorNs).toBeLessThanOrEqual(error);
          expect(c.errorNs).toBeLessThanOrEqual((x.there + x.back) / 2);
          error = c.errorNs;
          at = answered + x.back;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('exact with an instant answer; a node whose clock restarts is followed, not averaged in', () => {
    const c = new ClockOffset();
    c.sample(5_000, 5_000, 1_000);
    expect([c.offsetNs, c.errorNs]).toEqual([4_000, 0]);
    c.sample(6_000, 6_400, 2_100);
    expect([c.offsetNs, c.errorNs]).toEqual([4_000, 0]);
    // The node's process restarted: its clock is back near 0 while ours went on.
    c.sample(9_000_000, 9_000_200, 50);
    expect(c.offsetNs).toBe(9_000_050);
    expect(c.errorNs).toBe(100);
  });

  it('refuses a sample whose answer came back before its ask went out, or a time that is not finite', () => {
    const c = new ClockOffset();
    expect(() => c.sample(10, 9, 0)).toThrow('clock sample: need finite times with sent <= got, got sent 10, got 9, remote 0');
    expect(() => c.sample(0, 1, Number.NaN)).toThrow(/remote NaN/);
    expect(c.offsetNs).toBeUndefined();
  });
});
