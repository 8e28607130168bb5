/**
 * SLQB vs the simple first-fit allocator vs JS heap `new Uint8Array(n)`, in
 * one run: small alloc/free pairs, a long ring workload that includes GC cost
 * for the JS heap, and a Hoard-threadtest-style multi-size workload on 4 cores
 * (local frees, and a producer/consumer variant where every free is remote).
 */
import { EbbRef, NodeContext, runOnCore } from '@ebbrt/core-translation';
import { Simulation } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EbbInstallContext, type MemoryAllocator } from '@ebbrt/interfaces';
import { manifest as simpleManifest } from '@ebbrt/memory-allocator-simple';
import { manifest as slqbManifest } from '../src/index.js';
import { measure, medianOf, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';

const CORES = 4;

function boot(which: 'slqb' | 'simple') {
  const sim = new Simulation();
  const machine = sim.createMachine({ cores: CORES, memoryBytes: 256 << 20 });
  const node = new NodeContext({ id: 1, numCores: CORES, target: 'native' });
  const ctx: EbbInstallContext = { id: SystemEbbIds.MemoryAllocator, node, target: 'native', machine, simulation: sim, log: () => {} };
  const m = which === 'slqb' ? slqbManifest : simpleManifest;
  node.install(ctx.id, m.create(ctx, m.options!.parse({})) as never);
  const ref = new EbbRef<MemoryAllocator>(ctx.id);
  const reps = node.cores.map((c) => runOnCore(c, () => ref.deref()));
  return { node, ref, reps };
}

/** Median of `repeat` wall-clock runs of `fn`, in ns per op. */
function wall(name: string, ops: number, fn: () => void, repeat = 5): BenchResult {
  fn(); // warm up
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  t.sort((a, b) => a - b);
  return { name, medianNs: t[Math.floor(t.length / 2)], minNs: t[0], maxNs: t[t.length - 1], ops };
}

const RING = 1000;
const N = 1_000_000;

function ringMalloc(a: MemoryAllocator): () => void {
  const ring = new Array<number>(RING).fill(-1);
  return () => {
    for (let i = 0; i < N; i++) {
      const j = i % RING;
      if (ring[j] >= 0) a.free(ring[j]);
      ring[j] = a.malloc(64);
    }
    for (let j = 0; j < RING; j++) {
      if (ring[j] >= 0) a.free(ring[j]);
      ring[j] = -1;
    }
  };
}

function ringHeap(): () => void {
  const ring = new Array<Uint8Array | undefined>(RING).fill(undefined);
  let sink = 0;
  return () => {
    for (let i = 0; i < N; i++) {
      const b = new Uint8Array(64);
      b[0] = i;
      ring[i % RING] = b;
    }
    sink += ring[0]![0];
    if (sink === -1) console.log(sink);
  };
}

const SIZES = [8, 24, 48, 64, 100, 200, 300, 500, 1000, 2000, 4000, 8000];
const BATCH = 200;
const ROUNDS = 50;

/**
 * Hoard threadtest style: each core allocates a batch of mixed sizes then frees
 * it; cores take turns per round (the simulation runs one core at a time).
 * `remote`: core i frees the batch core i-1 allocated (every free is remote).
 */
function threadtest(env: ReturnType<typeof boot>, remote: boolean): () => void {
  const batches = Array.from({ length: CORES }, () => new Array<number>(BATCH).fill(-1));
  return () => {
    for (let r = 0; r < ROUNDS; r++) {
      for (let c = 0; c < CORES; c++) {
        runOnCore(env.node.core(c), () => {
          const a = env.ref.deref();
          const mine = batches[c];
          const toFree = remote ? batches[(c + CORES - 1) % CORES] : mine;
          if (remote) for (let i = 0; i < BATCH; i++) if (toFree[i] >= 0) (a.free(toFree[i]), (toFree[i] = -1));
          for (let i = 0; i < BATCH; i++) mine[i] = a.malloc(SIZES[(i + r + c) % SIZES.length]);
          if (!remote) for (let i = 0; i < BATCH; i++) (a.free(mine[i]), (mine[i] = -1));
        });
      }
    }
    for (let c = 0; c < CORES; c++) {
      runOnCore(env.node.core(c), () => {
        for (let i = 0; i < BATCH; i++) if (batches[c][i] >= 0) (env.ref.deref().free(batches[c][i]), (batches[c][i] = -1));
      });
    }
  };
}

export default async function run(): Promise<BenchReport> {
  const slqb = boot('slqb');
  const simple = boot('simple');
  const PAIRS = 1000;
  const pair = (a: MemoryAllocator, size: number) => () => {
    for (let i = 0; i < PAIRS; i++) a.free(a.malloc(size));
  };
  const heapPair = (size: number) => {
    let sink = 0;
    return () => {
      for (let i = 0; i < PAIRS; i++) sink += new Uint8Array(size).length;
      if (sink === -1) console.log(sink);
    };
  };
  // A few live objects so the simple allocator's free list is not trivially empty.
  for (const e of [slqb, simple]) for (let i = 0; i < 64; i++) e.reps[0].malloc(40 + i * 8);

  const pairs = measure(
    [
      { name: 'slqb malloc/free 64B pair', fn: pair(slqb.reps[0], 64), opsPerIteration: PAIRS },
      { name: 'slqb malloc/free 1000B pair', fn: pair(slqb.reps[0], 1000), opsPerIteration: PAIRS },
      { name: 'simple malloc/free 64B pair', fn: pair(simple.reps[0], 64), opsPerIteration: PAIRS },
      { name: 'simple malloc/free 1000B pair', fn: pair(simple.reps[0], 1000), opsPerIteration: PAIRS },
      { name: 'heap new Uint8Array(64) (no GC pressure)', fn: heapPair(64), opsPerIteration: PAIRS },
    ],
    { timeMs: 300, warmupMs: 100, rounds: 3 },
  );

  const ring = [
    wall('ring 1M x 64B, 1000 live: slqb', N, ringMalloc(slqb.reps[0])),
    wall('ring 1M x 64B, 1000 live: simple', N, ringMalloc(simple.reps[0]), 3),
    wall('ring 1M x 64B, 1000 live: Uint8Array + GC', N, ringHeap()),
  ];

  const ttOps = ROUNDS * CORES * BATCH * 2;
  const tt = [
    wall('threadtest 4 cores local: slqb', ttOps, threadtest(slqb, false)),
    wall('threadtest 4 cores local: simple', ttOps, threadtest(simple, false)),
    wall('threadtest 4 cores remote frees: slqb', ttOps, threadtest(slqb, true)),
    wall('threadtest 4 cores remote frees: simple', ttOps, threadtest(simple, true)),
  ];

  const results = [...pairs, ...ring, ...tt];
  const m = (n: string) => medianOf(results, n);
  return {
    name: 'memory-allocator-slqb: SLQB vs simple vs JS heap',
    results,
    ratios: {
      'pair64 slqb/simple': m('slqb malloc/free 64B pair') / m('simple malloc/free 64B pair'),
      'pair64 slqb/Uint8Array': m('slqb malloc/free 64B pair') / m('heap new Uint8Array(64) (no GC pressure)'),
      'ring slqb/simple': m('ring 1M x 64B, 1000 live: slqb') / m('ring 1M x 64B, 1000 live: simple'),
      'ring slqb/Uint8Array+GC': m('ring 1M x 64B, 1000 live: slqb') / m('ring 1M x 64B, 1000 live: Uint8Array + GC'),
      'threadtest local slqb/simple': m('threadtest 4 cores local: slqb') / m('threadtest 4 cores local: simple'),
      'threadtest remote slqb/simple': m('threadtest 4 cores remote frees: slqb') / m('threadtest 4 cores remote frees: simple'),
    },
    notes: [
      'pair = one malloc + one free (ns per pair) through the rep; threadtest/ring figures are ns per malloc or free, wall clock',
      'ring: 1M allocations with a ring of 1000 live; for Uint8Array the time includes the GC that reclaims them',
      'threadtest: 4 cores take turns, each allocating then freeing batches of 200 mixed sizes (8 B..8 KB), 50 rounds; "remote" frees the previous core\'s batch',
    ],
  };
}
