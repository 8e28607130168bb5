import { EbbIdRanges, IdSpaceError } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EbbAllocator } from './ebb-allocator.js';

const LOCAL_COUNT = EbbIdRanges.lastLocal - EbbIdRanges.firstLocal + 1;

describe('EbbAllocator local ids', () => {
  it('hands out the lowest free id, starting at 0x100, and reuses freed ids', () => {
    const a = new EbbAllocator();
    expect([a.allocateLocal(), a.allocateLocal(), a.allocateLocal(), a.allocateLocal()]).toEqual([
      0x100, 0x101, 0x102, 0x103,
    ]);
    a.freeLocal(0x102);
    a.freeLocal(0x101);
    expect(a.allocateLocal()).toBe(0x101);
    expect(a.allocateLocal()).toBe(0x102);
    expect(a.allocateLocal()).toBe(0x104);
  });

  it('uses the whole range [0x100, 0x7FFF], then throws a clear IdSpaceError', () => {
    const a = new EbbAllocator();
    const ids = Array.from({ length: LOCAL_COUNT }, () => a.allocateLocal());
    expect(ids[0]).toBe(0x100);
    expect(ids.at(-1)).toBe(0x7fff);
    expect(new Set(ids).size).toBe(LOCAL_COUNT);
    expect(() => a.allocateLocal()).toThrow(IdSpaceError);
    expect(() => a.allocateLocal()).toThrow(/local EbbId space exhausted.*0x100, 0x7fff/);
    // Freeing one id in the middle makes exactly that one available again.
    a.freeLocal(0x4000);
    expect(a.allocateLocal()).toBe(0x4000);
    expect(() => a.allocateLocal()).toThrow(IdSpaceError);
  });

  it('lowest-free holds for any interleaving of allocations and frees', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat(40)), { maxLength: 200 }), (ops) => {
        const a = new EbbAllocator();
        const live = new Set<number>();
        for (const op of ops) {
          if (op === -1 || live.size === 0) {
            let expected = EbbIdRanges.firstLocal;
            while (live.has(expected)) expected++;
            expect(a.allocateLocal()).toBe(expected);
            live.add(expected);
          } else {
            const victim = [...live][op % live.size]!;
            a.freeLocal(victim);
            live.delete(victim);
          }
        }
      }),
    );
  });

  it('detects freeLocal misuse', () => {
    const a = new EbbAllocator();
    expect(() => a.freeLocal(0x100)).toThrow(/0x100.*not allocated/);
    const id = a.allocateLocal();
    a.freeLocal(id);
    expect(() => a.freeLocal(id)).toThrow(/not allocated/);
    for (const bad of [0xff, 0x8000, 0x10000, 256.5]) expect(() => a.freeLocal(bad)).toThrow(/not a local id/);
  });
});

describe('EbbAllocator global ids', () => {
  it('gives ids in [space << 16, (space + 1) << 16)', () => {
    const a = new EbbAllocator(3);
    expect(a.idSpace).toBe(3);
    expect(a.allocateGlobal()).toBe(0x30000);
    expect(a.allocateGlobal()).toBe(0x30001);
  });

  it('works for the largest space without int32 overflow', () => {
    const a = new EbbAllocator(EbbIdRanges.maxSpace);
    const id = a.allocateGlobal();
    expect(id).toBe(0xffff0000);
    expect(id).toBeGreaterThan(0);
  });

  it('never collides across nodes with different spaces', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: EbbIdRanges.maxSpace }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.nat(300), { minLength: 6, maxLength: 6 }),
        (spaces, counts) => {
          const seen = new Set<number>();
          let total = 0;
          spaces.forEach((space, i) => {
            const a = new EbbAllocator(space);
            for (let k = 0; k < counts[i]!; k++) {
              const id = a.allocateGlobal();
              expect(Math.floor(id / 0x10000)).toBe(space);
              expect(id).toBeLessThanOrEqual(0xffffffff);
              seen.add(id);
              total++;
            }
          });
          expect(seen.size).toBe(total);
        },
      ),
    );
  });

  it('exhausts a space after 65536 ids with a clear error', () => {
    const a = new EbbAllocator(2);
    for (let i = 0; i < 0x10000; i++) a.allocateGlobal();
    expect(() => a.allocateGlobal()).toThrow(/global EbbId space 2 exhausted/);
    a.freeGlobal(0x2abcd);
    expect(a.allocateGlobal()).toBe(0x2abcd);
  });

  it('an unset space gives a clear error', () => {
    const a = new EbbAllocator();
    expect(a.idSpace).toBeUndefined();
    expect(() => a.allocateGlobal()).toThrow(IdSpaceError);
    expect(() => a.allocateGlobal()).toThrow(/unset.*front-end/);
  });

  it('rejects invalid spaces and changing the space', () => {
    for (const bad of [0, -1, 1.5, EbbIdRanges.maxSpace + 1, Number.NaN]) {
      expect(() => new EbbAllocator(bad)).toThrow(/id space .* is invalid/);
    }
    const a = new EbbAllocator();
    a.setIdSpace(4);
    a.setIdSpace(4);
    expect(() => a.setIdSpace(5)).toThrow(/already 4/);
  });

  it('detects freeGlobal misuse, and reuses freed ids', () => {
    const a = new EbbAllocator(7);
    const id = a.allocateGlobal();
    expect(() => a.freeGlobal(id + 1)).toThrow(/not allocated/);
    expect(() => a.freeGlobal(0x80000)).toThrow(/not in this node's id space 7/);
    expect(() => a.freeGlobal(0x100)).toThrow(/not in this node's id space/);
    a.freeGlobal(id);
    expect(() => a.freeGlobal(id)).toThrow(/not allocated/);
    expect(a.allocateGlobal()).toBe(id);
    expect(() => new EbbAllocator().freeGlobal(0x10000)).toThrow(IdSpaceError);
  });
});
