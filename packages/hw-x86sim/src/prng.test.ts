import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';

const take = (p: Prng, n: number) => Array.from({ length: n }, () => p.nextU32());

describe('Prng', () => {
  it('replays the same sequence for the same seed', () => {
    expect(take(new Prng(42), 100)).toEqual(take(new Prng(42), 100));
  });

  it('gives different sequences for different seeds', () => {
    expect(take(new Prng(1), 8)).not.toEqual(take(new Prng(2), 8));
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(2 ** 32 - 1), (a, b) => {
        fc.pre(a !== b);
        expect(take(new Prng(a), 4)).not.toEqual(take(new Prng(b), 4));
      }),
    );
  });

  it('forks are deterministic, label-distinct, and do not perturb the parent', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    a.nextU32();
    // Fork depends on seed + label only, not on how far the parent advanced.
    expect(take(a.fork('net'), 10)).toEqual(take(b.fork('net'), 10));
    expect(take(a.fork('net'), 10)).not.toEqual(take(a.fork('sched'), 10));
    expect(take(a.fork('net'), 10)).not.toEqual(take(new Prng(7), 10));
    const c = new Prng(7);
    c.nextU32();
    expect(take(a, 5)).toEqual(take(c, 5));
  });

  it('nextInt stays within [0, n)', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const p = new Prng(seed);
        for (let i = 0; i < 20; i++) {
          const v = p.nextInt(n);
          expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
        }
      }),
    );
  });

  it('nextFloat is in [0,1), nextInt covers small ranges roughly evenly, chance respects extremes', () => {
    const p = new Prng(3);
    const counts = [0, 0, 0];
    let floatsInRange = true;
    for (let i = 0; i < 30000; i++) {
      const f = p.nextFloat();
      floatsInRange &&= f >= 0 && f < 1;
      counts[p.nextInt(3)]++;
    }
    expect(floatsInRange).toBe(true);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(600);
    expect(p.chance(0)).toBe(false);
    expect(p.chance(1)).toBe(true);
  });

  it('rejects bad seeds and bounds', () => {
    expect(() => new Prng(-1)).toThrow(/seed/);
    expect(() => new Prng(1.5)).toThrow(/seed/);
    expect(() => new Prng(1).nextInt(0)).toThrow(/bound/);
  });
});
