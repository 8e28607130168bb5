/**
 * FreeList against a byte-map model: after any sequence of takes and frees, the list is exactly
 * the model's free bytes as maximal ranges (sorted, coalesced), and take() is first-fit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreeList } from '../src/free-list.js';

const SPACE = 4096;

/** Free bytes as a bitmap; the reference the list must match. */
class Model {
  readonly free = new Uint8Array(SPACE);
  add(start: number, size: number): void {
    for (let i = start; i < start + size; i++) {
      if (this.free[i]) throw new Error(`model: byte ${i} freed twice`);
      this.free[i] = 1;
    }
  }
  /** First aligned address whose `size` bytes are all free. */
  firstFit(size: number, align: number): number {
    for (let a = 0; a + size <= SPACE; a += align) {
      let ok = true;
      for (let i = a; i < a + size && ok; i++) ok = this.free[i] === 1;
      if (ok) return a;
    }
    return -1;
  }
  take(a: number, size: number): void {
    for (let i = a; i < a + size; i++) this.free[i] = 0;
  }
  ranges(): { start: number; size: number }[] {
    const out: { start: number; size: number }[] = [];
    for (let i = 0; i < SPACE; i++) {
      if (!this.free[i]) continue;
      let j = i;
      while (j < SPACE && this.free[j]) j++;
      out.push({ start: i, size: j - i });
      i = j;
    }
    return out;
  }
}

type Op = { take: true; size: number; align: number } | { take: false; pick: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ take: fc.constant(true as const), size: fc.integer({ min: 1, max: 600 }), align: fc.constantFrom(1, 16, 64, 256, 1024) }),
  fc.record({ take: fc.constant(false as const), pick: fc.nat() }),
);

describe('FreeList', () => {
  it('matches a byte-map model: first fit, aligned, coalesced, freeBytes exact', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const list = new FreeList();
        const model = new Model();
        list.add(0, SPACE);
        model.add(0, SPACE);
        const live: [number, number][] = [];
        for (const op of ops) {
          if (op.take) {
            const expected = model.firstFit(op.size, op.align);
            const got = list.take(op.size, op.align);
            expect(got).toBe(expected);
            if (got >= 0) {
              expect(got % op.align).toBe(0);
              model.take(got, op.size);
              live.push([got, op.size]);
            }
          } else if (live.length > 0) {
            const [start, size] = live.splice(op.pick % live.length, 1)[0]!;
            list.add(start, size);
            model.add(start, size);
          }
          expect(list.snapshot()).toEqual(model.ranges());
          expect(list.freeBytes).toBe(model.ranges().reduce((n, r) => n + r.size, 0));
        }
        for (const [start, size] of live) list.add(start, size);
        expect(list.snapshot()).toEqual([{ start: 0, size: SPACE }]);
      }),
      { numRuns: 150 },
    );
  });

  it('merges with the previous range, the next range, or both', () => {
    const list = new FreeList();
    list.add(0, 16);
    list.add(48, 16);
    expect(list.snapshot()).toEqual([
      { start: 0, size: 16 },
      { start: 48, size: 16 },
    ]);
    list.add(16, 16); // joins the previous one
    list.add(40, 8); // joins the next one
    expect(list.snapshot()).toEqual([
      { start: 0, size: 32 },
      { start: 40, size: 24 },
    ]);
    list.add(32, 8); // joins both
    expect(list.snapshot()).toEqual([{ start: 0, size: 64 }]);
    expect(list.freeBytes).toBe(64);
  });

  it('take splits around an aligned block and reports -1 when nothing fits', () => {
    const list = new FreeList();
    list.add(8, 200);
    expect(list.take(64, 64)).toBe(64);
    expect(list.snapshot()).toEqual([
      { start: 8, size: 56 },
      { start: 128, size: 80 },
    ]);
    expect(list.take(100, 1)).toBe(-1);
    expect(list.freeBytes).toBe(136);
  });
});
