/** SLQB-specific behaviour: per-core caches, remote frees, NUMA placement, stats, leak reports, manifest. */
import { validateManifest, type EbbInstallContext, InvalidFreeError, SystemEbbIds } from '@ebbrt/interfaces';
import { NodeContext } from '@ebbrt/core-translation';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { manifest, type SlqbAllocator, type SlqbCacheStats, type LeakReport, SlqbRoot } from '../src/index.js';
import { makeHarness, slqbRoot, type Harness } from './harness.js';
import { Simulation } from '@ebbrt/hw-x86sim';

const MiB = 1 << 20;

function cacheStats(h: Harness, core: number, objectSize: number): SlqbCacheStats | undefined {
  return slqbRoot(h).stats().caches.find((c) => c.core === core && c.objectSize === objectSize);
}

describe('SLQB per-core caches', () => {
  it('makes its node-wide tables on first use, not at boot, and allocates the same either way', () => {
    const lazy = makeHarness();
    expect(slqbRoot(lazy).tablesMade).toBe(false);
    const eager = makeHarness();
    const free0 = slqbRoot(eager).stats().freePageBytes; // stats make the tables before any malloc
    expect(slqbRoot(eager).tablesMade).toBe(true);
    const work = (h: Harness) => h.on(0, (a) => [a.malloc(64), a.malloc(5000), a.allocPages(2), a.malloc(64)]);
    const got = work(lazy);
    expect(slqbRoot(lazy).tablesMade).toBe(true);
    expect(got).toEqual(work(eager));
    expect(slqbRoot(lazy).stats().totalBytes).toBe(slqbRoot(eager).stats().totalBytes);
    expect(free0).toBe(slqbRoot(eager).stats().totalBytes);
  });

  it('frees from another core go to its pending batch, then the owner\'s remote list, and are reused there', () => {
    const h = makeHarness({ options: { batchSize: 4 } });
    const objs = h.on(0, (a) => [a.malloc(64), a.malloc(64), a.malloc(64), a.malloc(64)]);
    expect(cacheStats(h, 0, 64)).toMatchObject({ liveObjects: 4, localFree: 0, slabs: 1 });
    for (let i = 0; i < 3; i++) h.on(1, (a) => a.free(objs[i]));
    // Below the batch size: held on core 1, not yet visible to core 0.
    expect(cacheStats(h, 1, 64)).toMatchObject({ pendingOutgoing: 3, remoteFreesSent: 3 });
    expect(cacheStats(h, 0, 64)).toMatchObject({ remoteQueued: 0, liveObjects: 1 });
    h.on(1, (a) => a.free(objs[3]));
    expect(cacheStats(h, 1, 64)).toMatchObject({ pendingOutgoing: 0 });
    expect(cacheStats(h, 0, 64)).toMatchObject({ remoteQueued: 4, remoteFrees: 4, liveObjects: 0, localFree: 0 });
    // Core 0's local list is empty, so its next allocation claims the remote list.
    const again = h.on(0, (a) => a.malloc(64));
    expect(objs).toContain(again);
    expect(cacheStats(h, 0, 64)).toMatchObject({ remoteQueued: 0, localFree: 3, liveObjects: 1 });
    // Core 1 never owned a 64-byte slab: it only forwarded.
    expect(cacheStats(h, 1, 64)).toMatchObject({ slabs: 0, liveObjects: 0 });
  });

  it('a remote free of a freed object is still a double free', () => {
    const h = makeHarness({ options: { batchSize: 8 } });
    const x = h.on(0, (a) => a.malloc(32));
    h.on(2, (a) => a.free(x));
    expect(() => h.on(3, (a) => a.free(x))).toThrow(InvalidFreeError);
    expect(() => h.on(0, (a) => a.free(x))).toThrow(InvalidFreeError);
  });

  it('flushes a batch back to the slabs above the high-water mark, and returns empty slabs to the page allocator', () => {
    const h = makeHarness({ options: { highWaterMark: 16, batchSize: 8 } });
    const free0 = slqbRoot(h).stats().freePageBytes;
    const objs = h.on(0, (a) => Array.from({ length: 200 }, () => a.malloc(256)));
    expect(cacheStats(h, 0, 256)!.slabs).toBe(Math.ceil(200 / 16)); // 16 x 256 B per 4 KiB slab
    h.on(0, (a) => objs.forEach((o) => a.free(o)));
    const s = cacheStats(h, 0, 256)!;
    expect(s.localFree).toBeLessThanOrEqual(16);
    expect(s.liveObjects).toBe(0);
    expect(s.slabs).toBeLessThanOrEqual(2); // only slabs holding the cached objects remain
    slqbRoot(h).drain();
    expect(cacheStats(h, 0, 256)).toMatchObject({ slabs: 0, freeObjects: 0, localFree: 0 });
    expect(slqbRoot(h).stats().freePageBytes).toBe(free0);
  });

  it('reports per-core, per-class stats including bytes in use', () => {
    const h = makeHarness();
    h.on(0, (a) => [a.malloc(8), a.malloc(8), a.malloc(96)]);
    h.on(3, (a) => a.malloc(5000));
    const s = slqbRoot(h).stats();
    expect(s.caches.find((c) => c.core === 0 && c.objectSize === 8)).toMatchObject({ liveObjects: 2, bytesInUse: 16, slabs: 1 });
    expect(s.caches.find((c) => c.core === 0 && c.objectSize === 96)).toMatchObject({ liveObjects: 1, bytesInUse: 96 });
    const c8k = s.caches.find((c) => c.core === 3 && c.objectSize === 8192)!;
    expect(c8k).toMatchObject({ liveObjects: 1, bytesInUse: 8192, slabs: 1 });
    expect(c8k.freeObjects).toBe(3); // a 32 KiB slab of four 8 KiB objects
    expect(s.totalBytes).toBe(15 * MiB);
    expect(h.on(1, (a) => a.stats())).toEqual(s); // every rep reports the node-wide picture
  });

  it('aligns 96- and 192-byte objects to 32 and 64 bytes', () => {
    const h = makeHarness();
    h.on(0, (a) => {
      for (let i = 0; i < 100; i++) {
        expect(a.malloc(96) % 32).toBe(0);
        expect(a.malloc(150) % 64).toBe(0);
      }
    });
  });
});

describe('SLQB NUMA placement', () => {
  it('a core of NUMA node 1 allocates from region 1 until it is exhausted, then falls back', () => {
    const h = makeHarness({ cores: 4, numaNodes: 2, memoryBytes: 8 * MiB });
    expect(h.machine.nodeOfCore(2)).toBe(1);
    const region1 = h.machine.memory.regions[1];
    const inRegion1 = (addr: number) => addr >= region1.base && addr < region1.base + region1.size;
    expect(inRegion1(h.on(3, (a) => a.malloc(64)))).toBe(true);
    expect(inRegion1(h.on(0, (a) => a.malloc(64)))).toBe(false);
    expect(inRegion1(h.on(2, (a) => a.allocPages(0, 0)))).toBe(false); // explicit node wins
    const pages = h.on(2, (a) => {
      const got: number[] = [];
      for (;;) {
        const p = a.allocPages(0);
        got.push(p);
        if (!inRegion1(p)) break;
      }
      return got;
    });
    const local = pages.slice(0, -1);
    // Region 1 is 1024 pages; one went to core 3's 64-byte slab.
    expect(local.length).toBe(1023);
    expect(local.every(inRegion1)).toBe(true);
    expect(h.machine.memory.regionOf(pages[pages.length - 1]).node).toBe(0);
    expect(slqbRoot(h).stats().freeBytesByNumaNode[1]).toBe(0);
    h.on(2, (a) => pages.forEach((p) => a.freePages(p, 0)));
    expect(slqbRoot(h).stats().freeBytesByNumaNode[1]).toBe(4 * MiB - 4096);
  });
});

describe('SLQB IOBuf leak reports', () => {
  it('a FinalizationRegistry reports an IOBuf collected without release', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sim = new Simulation();
    const machine = sim.createMachine({ cores: 2, memoryBytes: 8 * MiB });
    const node = new NodeContext({ id: 1, numCores: 2, target: 'native' });
    const leaks: LeakReport[] = [];
    const root = new SlqbRoot(node, SystemEbbIds.MemoryAllocator, machine, {
      ...manifest.options!.parse({}),
      onLeak: (l) => leaks.push(l),
    });
    let addr = -1;
    (() => {
      const rep = root.repFor(1) as SlqbAllocator;
      const buf = rep.allocIOBuf(128);
      addr = buf.physAddr();
      rep.allocIOBuf(64).release(); // released properly: not a leak
    })();
    for (let i = 0; i < 20 && leaks.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(leaks).toEqual([{ address: addr, size: 128, core: 1 }]);
    expect(root.iobufs.leaks).toHaveLength(1);
  });
});

describe('SLQB manifest', () => {
  it('validates, applies option defaults and rejects bad options by field', () => {
    expect(validateManifest('@ebbrt/memory-allocator-slqb', manifest).implements).toBe('MemoryAllocator');
    expect(manifest.targets).toEqual(['native']);
    expect(manifest.options!.parse({})).toEqual({ reserveBytes: MiB, highWaterMark: 128, batchSize: 32, cacheBytesPerCore: 256 * 1024 });
    expect(manifest.options!.safeParse({ batchSize: 0 }).success).toBe(false);
    expect(manifest.options!.safeParse({ bogus: 1 }).success).toBe(false);
  });

  it('refuses a context without a simulated machine', () => {
    const node = new NodeContext({ id: 1, numCores: 1, target: 'hosted' });
    const ctx: EbbInstallContext = { id: SystemEbbIds.MemoryAllocator, node, target: 'hosted', log: () => {} };
    expect(() => manifest.create(ctx, manifest.options!.parse({}))).toThrow(/hw-x86sim Machine/);
  });

  it('keeps nodes independent: two allocators in one process share nothing', () => {
    const a = makeHarness();
    const b = makeHarness();
    const x = a.on(0, (m) => m.malloc(64));
    const y = b.on(0, (m) => m.malloc(64));
    expect(x).toBe(y); // same layout, separate state
    expect(() => b.on(0, (m) => m.free(x + 64))).toThrow(InvalidFreeError);
    a.on(0, (m) => m.free(x));
    expect(slqbRoot(b).stats().caches[0].liveObjects).toBe(1);
  });
});
