/**
 * The MemoryAllocator contract, run against every implementation: each allocator package's tests
 * call `allocatorContract(name, makeHarness)` with a harness that boots a node with that allocator
 * installed through its manifest (`bootAllocatorNode`). What it checks: no overlap, bounds,
 * alignment and intact contents under random multi-core alloc/free; LIFO reuse; typed
 * out-of-memory errors; rejected bad frees that change nothing; page blocks; IOBuf lifetime.
 */
import { InvalidFreeError, OutOfMemoryError } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AllocatorHarness, AllocatorMachineSpec, MakeAllocatorHarness } from './allocator-node.js';

const MiB = 1 << 20;

type Op = { core: number; malloc: true; size: number } | { core: number; malloc: false; pick: number };

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 3, arbitrary: fc.integer({ min: 601, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 70_001, max: 3 * MiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 8 * MiB + 1, max: 9 * MiB }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ core: fc.nat(3), malloc: fc.constant(true as const), size: sizeArb }),
  fc.record({ core: fc.nat(3), malloc: fc.constant(false as const), pick: fc.nat() }),
);

/** Live allocations as [addr, footprint] with an overlap check on insert. */
class LiveSet {
  readonly addrs: number[] = [];
  readonly sizes: number[] = [];
  add(addr: number, size: number): void {
    for (let i = 0; i < this.addrs.length; i++) {
      const a = this.addrs[i];
      if (addr < a + this.sizes[i] && a < addr + size) {
        throw new Error(`overlap: [0x${addr.toString(16)},+${size}) with [0x${a.toString(16)},+${this.sizes[i]})`);
      }
    }
    this.addrs.push(addr);
    this.sizes.push(size);
  }
  take(pick: number): [number, number] {
    const i = pick % this.addrs.length;
    const r: [number, number] = [this.addrs[i], this.sizes[i]];
    this.addrs.splice(i, 1);
    this.sizes.splice(i, 1);
    return r;
  }
}

function stamp(h: AllocatorHarness, addr: number, size: number, v: number): void {
  if (size === 0) return;
  h.machine.memory.writeU8(addr, v);
  h.machine.memory.writeU8(addr + size - 1, v);
}

/** Snapshot of everything observable; used to prove a rejected free changed nothing. */
function state(h: AllocatorHarness): string {
  return JSON.stringify([h.snapshot(), h.on(0, (a) => a.stats())]);
}

export function allocatorContract(kind: string, make: MakeAllocatorHarness, options?: Record<string, unknown>): void {
  const harness = (spec: AllocatorMachineSpec = {}) => make({ ...spec, options });
  describe(`MemoryAllocator contract: ${kind}${options ? ' ' + JSON.stringify(options) : ''}`, () => {
    it('random alloc/free on 4 cores: no overlap, in memory, aligned, contents intact; all freed -> initial free state', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
          const h = harness({ cores: 4, memoryBytes: 32 * MiB });
          const initial = JSON.stringify(h.snapshot());
          const live = new LiveSet();
          const requested = new Map<number, number>();
          let tag = 1;
          for (const op of ops) {
            if (op.malloc) {
              const addr = h.on(op.core, (a) => a.tryMalloc(op.size));
              if (addr === -1) continue; // out of memory is allowed; consistency is checked below
              expect(addr).toBeGreaterThanOrEqual(MiB); // the reserved first MiB is never handed out
              expect(addr + op.size).toBeLessThanOrEqual(h.machine.memory.size);
              expect(addr % h.alignmentOf(op.size)).toBe(0);
              live.add(addr, h.footprint(op.size));
              requested.set(addr, op.size);
              stamp(h, addr, op.size, tag & 0xff);
              tag++;
            } else if (live.addrs.length > 0) {
              const [addr] = live.take(op.pick);
              h.on(op.core, (a) => a.free(addr));
              requested.delete(addr);
            }
          }
          while (live.addrs.length > 0) {
            const [addr] = live.take(0);
            h.on(addr % 4, (a) => a.free(addr));
          }
          h.drain();
          expect(JSON.stringify(h.snapshot())).toBe(initial);
          const s = h.on(0, (a) => a.stats());
          expect(s.freePageBytes).toBe(s.totalBytes);
          for (const c of s.caches) expect(c.liveObjects).toBe(0);
        }),
        { numRuns: 60 },
      );
    });

    it('reuses the last freed object first on the same core (LIFO)', () => {
      const h = harness();
      h.on(2, (a) => {
        const keep = [a.malloc(100), a.malloc(100), a.malloc(100)];
        const x = a.malloc(100);
        a.free(x);
        expect(a.malloc(120)).toBe(x);
        for (const k of keep) a.free(k);
      });
    });

    it('out of memory: typed error naming the request and what is left; tryMalloc -1; consistent afterwards', () => {
      const h = harness({ memoryBytes: 4 * MiB });
      const initial = JSON.stringify(h.snapshot());
      const got: number[] = [];
      let err: unknown;
      h.on(1, (a) => {
        try {
          for (;;) got.push(a.malloc(64 * 1024));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(OutOfMemoryError);
        const oom = err as OutOfMemoryError;
        expect(oom.code).toBe('EBBRT_OOM');
        expect(oom.message).toContain('malloc(65536');
        expect(oom.requestedBytes).toBeGreaterThanOrEqual(65536);
        expect(oom.availableBytes).toBe(a.stats().freePageBytes);
        expect(oom.availableBytes).toBeLessThan(65536 + 16);
        expect(a.tryMalloc(64 * 1024)).toBe(-1);
        expect(() => a.malloc(10 * MiB)).toThrow(/out of memory: malloc\(10485760\).*bytes free/);
        expect(() => a.allocPages(11)).toThrow(OutOfMemoryError);
        // Still works: free one, get one.
        a.free(got.pop()!);
        got.push(a.malloc(64 * 1024));
      });
      expect(got.length).toBeGreaterThan(40); // ~3 MiB usable / 64 KiB
      expect(new Set(got).size).toBe(got.length);
      for (const addr of got) h.on(0, (a) => a.free(addr));
      h.drain();
      expect(JSON.stringify(h.snapshot())).toBe(initial);
    });

    it('rejects double, never-allocated and interior frees with InvalidFreeError and changes nothing', () => {
      const h = harness({ memoryBytes: 32 * MiB });
      h.on(0, (a) => {
        const small = a.malloc(64);
        const big = a.malloc(100_000);
        const huge = a.malloc(9 * MiB);
        const pages = a.allocPages(2);
        const gone = a.malloc(64);
        a.free(gone);
        const freedPage = a.allocPages(0);
        a.freePages(freedPage, 0);
        const bad: [number, RegExp][] = [
          [gone, /not allocated|double free/],
          [small + 8, /interior|not allocated/],
          [big + 4096, /interior/],
          [huge + 8192, /interior/],
          [pages, /allocPages/],
          [0x10, /not allocated|outside/],
          [freedPage + 64, /not allocated/],
          [h.machine.memory.size + 64, /outside|not allocated/],
          [-8, /outside|not allocated/],
        ];
        for (const [addr, why] of bad) {
          const before = state(h);
          let caught: unknown;
          try {
            a.free(addr);
          } catch (e) {
            caught = e;
          }
          expect(caught, `free(0x${addr.toString(16)})`).toBeInstanceOf(InvalidFreeError);
          expect((caught as InvalidFreeError).message).toMatch(why);
          expect((caught as InvalidFreeError).address).toBe(addr);
          expect(state(h)).toBe(before);
        }
        expect(() => a.freePages(pages, 3)).toThrow(InvalidFreeError);
        expect(() => a.freePages(small, 0)).toThrow(InvalidFreeError);
        // Everything still frees normally after the rejected calls.
        a.free(small);
        a.free(big);
        a.free(huge);
        a.freePages(pages, 2);
        expect(() => a.freePages(pages, 2)).toThrow(InvalidFreeError);
        expect(() => a.free(huge)).toThrow(InvalidFreeError);
      });
    });

    it('allocPages returns aligned blocks and freePages returns them', () => {
      const h = harness();
      const initial = JSON.stringify(h.snapshot());
      h.on(3, (a) => {
        const blocks = [0, 1, 3, 5, 8].map((o) => [a.allocPages(o), o] as const);
        for (const [addr, o] of blocks) expect(addr % (4096 * 2 ** o)).toBe(0);
        for (const [addr, o] of blocks) a.freePages(addr, o);
        expect(() => a.allocPages(-1)).toThrow(RangeError);
      });
      h.drain();
      expect(JSON.stringify(h.snapshot())).toBe(initial);
    });

    it('IOBuf storage is physical memory, clones keep it alive, the last release frees it', () => {
      const h = harness();
      const initial = JSON.stringify(h.snapshot());
      h.on(1, (a) => {
        const buf = a.allocIOBuf(1000);
        const addr = buf.physAddr();
        expect(buf.length).toBe(1000);
        expect(buf.storage.physAddr).toBe(addr);
        expect(buf.bytes.buffer).toBe(h.machine.memory.bytes.buffer); // a view, not a copy
        buf.data().set([1, 2, 3], 0);
        buf.bytes[buf.offset + 999] = 0x5a;
        expect(h.machine.memory.readU8(addr + 1)).toBe(2);
        expect(h.machine.memory.readU8(addr + 999)).toBe(0x5a);
        h.machine.memory.writeU8(addr + 500, 0x77);
        expect(buf.data()[500]).toBe(0x77);
        const clone = buf.clone();
        buf.release();
        expect(h.liveIOBufs()).toEqual([expect.objectContaining({ address: addr, size: 1000 })]);
        expect(() => a.free(addr + 16)).toThrow(InvalidFreeError); // still allocated, interior
        expect(clone.data()[1]).toBe(2);
        clone.release();
        expect(h.liveIOBufs()).toEqual([]);
        expect(() => a.free(addr)).toThrow(InvalidFreeError); // already returned by the release hook
        expect(a.malloc(1000)).toBe(addr); // and reusable
        a.free(addr);
      });
      h.drain();
      expect(JSON.stringify(h.snapshot())).toBe(initial);
    });

    it('the live-IOBuf registry catches a buffer dropped without release', () => {
      const h = harness();
      const dropped = h.on(0, (a) => {
        a.allocIOBuf(64).release();
        return a.allocIOBuf(64).physAddr(); // never released
      });
      expect(h.liveIOBufs()).toEqual([expect.objectContaining({ address: dropped, size: 64 })]);
    });
  });
}
