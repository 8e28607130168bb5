/** The simple allocator's own behaviour, beyond the shared contract: one rep, options, errors. */
import { SystemEbbIds, validateManifest, InvalidFreeError, OutOfMemoryError } from '@ebbrt/interfaces';
import { NodeContext } from '@ebbrt/core-translation';
import { describe, expect, it } from 'vitest';
import { manifest, simpleOptionsSchema } from '../src/index.js';
import { makeHarness } from './harness.js';

const MiB = 1 << 20;

describe('memory-allocator-simple', () => {
  it('validates as a MemoryAllocator manifest for the native target', () => {
    const m = validateManifest('@ebbrt/memory-allocator-simple', manifest);
    expect(m.implements).toBe('MemoryAllocator');
    expect(m.targets).toEqual(['native']);
  });

  it('every core gets the same rep: one allocator per node, so a block freed on any core is reused on any core', () => {
    const h = makeHarness({ cores: 4 });
    const reps = [0, 1, 2, 3].map((c) => h.on(c, (a) => a));
    expect(new Set(reps).size).toBe(1);
    expect(reps[0]).toBe(h.root.allocator);
    const addr = h.on(1, (a) => a.malloc(100));
    h.on(3, (a) => a.free(addr));
    expect(h.on(2, (a) => a.malloc(100))).toBe(addr);
  });

  it('never hands out the reserved bottom (rounded up to a page) and counts only what is left', () => {
    const h = makeHarness({ memoryBytes: 4 * MiB, options: { reserveBytes: 5000 } });
    const s = h.on(0, (a) => a.stats());
    expect(s.totalBytes).toBe(4 * MiB - 8192);
    expect(h.snapshot()).toEqual([{ start: 8192, size: 4 * MiB - 8192 }]);
    expect(h.on(0, (a) => a.malloc(1))).toBe(8192);
  });

  it('a reserve covering all memory leaves nothing: typed out-of-memory error, zero totals', () => {
    const h = makeHarness({ memoryBytes: 2 * MiB, options: { reserveBytes: 2 * MiB } });
    expect(h.on(0, (a) => a.stats().totalBytes)).toBe(0);
    expect(h.on(0, (a) => a.tryMalloc(16))).toBe(-1);
    expect(() => h.on(0, (a) => a.malloc(16))).toThrow(OutOfMemoryError);
  });

  it('rounds requests to 16-byte granules and reports live objects and bytes in stats', () => {
    const h = makeHarness();
    h.on(0, (a) => {
      const x = a.malloc(1);
      const y = a.malloc(17);
      const z = a.malloc(0);
      expect(y - x).toBe(16);
      expect(z - y).toBe(32);
      const c = a.stats().caches[0]!;
      expect(c.liveObjects).toBe(3);
      expect(c.bytesInUse).toBe(16 + 32 + 16);
      a.allocPages(0); // pages are not malloc objects
      expect(a.stats().caches[0]!.liveObjects).toBe(3);
      a.free(x);
      expect(a.stats().caches[0]!.bytesInUse).toBe(48);
    });
  });

  it('a free through the wrong call says which call to use, and changes nothing', () => {
    const h = makeHarness();
    h.on(0, (a) => {
      const obj = a.malloc(64);
      const page = a.allocPages(2);
      const before = JSON.stringify(h.snapshot());
      const reason = (f: () => void): string => {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidFreeError);
          return (e as Error).message;
        }
        throw new Error('expected InvalidFreeError');
      };
      expect(reason(() => a.freePages(obj, 0))).toMatch(/allocated with malloc; use free/);
      expect(reason(() => a.free(page))).toMatch(/allocated with allocPages; use freePages/);
      expect(reason(() => a.freePages(page, 1))).toMatch(/freed with order 1 but allocated with order 2/);
      expect(reason(() => a.free(obj + 16))).toMatch(/interior pointer into the allocation at 0x/);
      expect(JSON.stringify(h.snapshot())).toBe(before);
      a.free(obj);
      a.freePages(page, 2);
    });
  });

  it('rejects bad sizes and orders with RangeErrors naming the value', () => {
    const h = makeHarness();
    h.on(0, (a) => {
      expect(() => a.tryMalloc(-1)).toThrow(/size must be a non-negative integer, got -1/);
      expect(() => a.malloc(1.5)).toThrow(RangeError);
      expect(() => a.tryMalloc(Number.NaN)).toThrow(/got NaN/);
      expect(() => a.allocPages(21)).toThrow(/order must be an integer in 0..20, got 21/);
    });
  });

  it('options: unknown keys and negative reserves are refused, naming the field', () => {
    expect(simpleOptionsSchema.parse({})).toEqual({ reserveBytes: 1 << 20 });
    const unknown = simpleOptionsSchema.safeParse({ reserve: 10 });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error!.issues)).toContain('reserve');
    const negative = simpleOptionsSchema.safeParse({ reserveBytes: -1 });
    expect(negative.success).toBe(false);
    expect(negative.error!.issues[0]!.path).toEqual(['reserveBytes']);
  });

  it('refuses a node without a simulated machine (hosted), naming the package', () => {
    const node = new NodeContext({ id: 3, numCores: 1, target: 'hosted' });
    expect(() => manifest.create({ id: SystemEbbIds.MemoryAllocator, node, target: 'hosted', log: () => {} }, simpleOptionsSchema.parse({}))).toThrow(
      /node 3: @ebbrt\/memory-allocator-simple needs a hw-x86sim Machine/,
    );
  });
});
