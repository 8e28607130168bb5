import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuddyAllocator, CLASS_SIZES, PAGE_SIZE, SizeClassTable, slabOrderFor } from '../src/index.js';

describe('buddy allocator', () => {
  it('random alloc/free: blocks are aligned, disjoint, in range; freeing all coalesces to the initial lists', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }), // reserved pages
        fc.array(fc.oneof(fc.record({ order: fc.nat(11) }), fc.record({ pick: fc.nat() })), { maxLength: 200 }),
        (reserved, ops) => {
          // Region [1024, 4096) pages: base not aligned to the largest blocks, like NUMA region 1 of 3.
          const b = new BuddyAllocator(1024, 4096, 1024 + reserved, 11);
          const initial = JSON.stringify(b.snapshot());
          const live: [number, number][] = [];
          for (const op of ops) {
            if ('order' in op) {
              const addr = b.alloc(op.order);
              if (addr < 0) continue;
              const size = PAGE_SIZE * 2 ** op.order;
              expect(addr % size).toBe(0);
              expect(addr).toBeGreaterThanOrEqual((1024 + reserved) * PAGE_SIZE);
              expect(addr + size).toBeLessThanOrEqual(4096 * PAGE_SIZE);
              for (const [a, o] of live) expect(addr >= a + PAGE_SIZE * 2 ** o || a >= addr + size).toBe(true);
              live.push([addr, op.order]);
            } else if (live.length > 0) {
              const [[a, o]] = live.splice(op.pick % live.length, 1);
              b.free(a, o);
            }
          }
          for (const [a, o] of live) b.free(a, o);
          expect(JSON.stringify(b.snapshot())).toBe(initial);
        },
      ),
    );
  });

  it('splits and merges buddies', () => {
    const b = new BuddyAllocator(0, 2048, 0, 11);
    expect(b.snapshot().freeBlocks[11]).toEqual([0]);
    const a = b.alloc(0);
    expect(b.snapshot().freeBlocks.slice(0, 11).every((l) => l.length === 1)).toBe(true);
    expect(b.alloc(11)).toBe(-1);
    b.free(a, 0);
    expect(b.alloc(11)).toBe(0);
    expect(b.freeBytes).toBe(0);
  });
});

describe('size classes', () => {
  const t = new SizeClassTable();
  it('maps every size to the smallest class that holds it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 << 20 }), (n) => {
        const c = t.classOf(n);
        expect(CLASS_SIZES[c]).toBeGreaterThanOrEqual(n);
        if (c > 0) expect(CLASS_SIZES[c - 1]).toBeLessThan(n);
      }),
    );
    expect(t.classOf((8 << 20) + 1)).toBe(-1);
    expect(CLASS_SIZES.slice(0, 10)).toEqual([8, 16, 32, 64, 96, 128, 192, 256, 512, 1024]);
    expect(CLASS_SIZES[CLASS_SIZES.length - 1]).toBe(8 << 20);
  });
  it('chooses slabs that waste at most a quarter', () => {
    for (const size of CLASS_SIZES) {
      const bytes = PAGE_SIZE * 2 ** slabOrderFor(size);
      expect(bytes % size).toBeLessThanOrEqual(bytes / 4);
      expect(bytes).toBeGreaterThanOrEqual(size);
    }
  });
});
