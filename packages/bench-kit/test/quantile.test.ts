import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, quantile, quantileOf, sortedCopy } from '../src/quantile.js';

describe('quantile', () => {
  it('interpolates between the closest ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantile([0, 100], 0.99)).toBeCloseTo(99, 10);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('is NaN for an empty sample and refuses a q outside [0, 1]', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(() => quantile([1], 1.5)).toThrow(/q must be in \[0, 1\], got 1.5/);
    expect(() => quantile([1], Number.NaN)).toThrow(RangeError);
  });

  it('median is the middle value or the mean of the middle two; the input is not reordered', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  // Integer samples keep b - a exact, so interpolation cannot round past a neighbour.
  it('stays within the sample, is monotone in q, and hits min and max at 0 and 1', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, a, b) => {
        const s = sortedCopy(xs);
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(quantile(s, lo)).toBeLessThanOrEqual(quantile(s, hi));
        expect(quantileOf(xs, lo)).toBeGreaterThanOrEqual(s[0]!);
        expect(quantileOf(xs, hi)).toBeLessThanOrEqual(s[s.length - 1]!);
        expect(quantile(s, 0)).toBe(s[0]);
        expect(quantile(s, 1)).toBe(s[s.length - 1]);
      }),
    );
  });
});
