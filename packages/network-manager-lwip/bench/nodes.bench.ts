/**
 * Many idle nodes in one process (issue 17 item 7), side by side in one run:
 *
 * - bare: IDLE_N native nodes (1 core, 16 MiB; EventManager, Timer, SLQB), booted on one
 *   Simulation, then run to quiescence;
 * - networked: NET_N nodes that also have a virtio NIC, lwIP's stack and a link to one switch
 *   (10.1.x.y/16), all brought up (whenReady), then the first pings the last across the switch.
 *
 * Per node: wall time to construct and boot, and the growth of the JS heap, of ArrayBuffer
 * memory (each machine's physical memory is one ArrayBuffer: untouched pages are never committed
 * by the OS, so this counts reserved, not resident, bytes) and of the process RSS, each after a
 * full GC (the bench enables gc() itself). Timings never fail the run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Simulation } from '@ebbrt/hw-x86sim';
import { bareNode, netFixture } from '@ebbrt/testkit/net';
import type { BenchReport, BenchResult } from '@ebbrt/bench-kit';

const IDLE_N = Number(process.env.EBBRT_BENCH_IDLE_NODES ?? 10_000);
const NET_N = Number(process.env.EBBRT_BENCH_NET_NODES ?? 1_000);
const MIB = 1 << 20;

interface Mem {
  heap: number;
  arrayBuffers: number;
  rss: number;
}

/** The engine's gc(): exposed by --expose-gc, else enabled at run time (a fresh context sees it). */
function gcFn(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) return g;
  setFlagsFromString('--expose-gc');
  const fromContext: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof fromContext === 'function' ? (fromContext as () => void) : undefined;
}
const gc = gcFn();

function snapshot(): Mem {
  const g = gc;
  if (g !== undefined) {
    g();
    g();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

function perNode(name: string, n: number, wallMs: number, before: Mem, after: Mem, extra: Record<string, number> = {}): BenchResult {
  return {
    name,
    medianNs: (wallMs * 1e6) / n,
    nodes: n,
    bootUsPerNode: (wallMs * 1000) / n,
    heapKiBPerNode: (after.heap - before.heap) / 1024 / n,
    arrayBufferKiBPerNode: (after.arrayBuffers - before.arrayBuffers) / 1024 / n,
    rssKiBPerNode: (after.rss - before.rss) / 1024 / n,
    ...extra,
  };
}

async function bare(): Promise<BenchResult> {
  const before = snapshot();
  const t0 = performance.now();
  const sim = new Simulation({ seed: 1 });
  const nodes = [];
  for (let i = 0; i < IDLE_N; i++) nodes.push(bareNode(sim, i, 1, 16 * MIB));
  const r = await sim.run();
  const wall = performance.now() - t0;
  const after = snapshot();
  const res = perNode(`${IDLE_N} idle nodes (1 core, 16 MiB, no NIC)`, IDLE_N, wall, before, after, { slices: r.slices });
  nodes.length = 0;
  return res;
}

async function networked(): Promise<BenchResult> {
  const before = snapshot();
  const t0 = performance.now();
  const f = netFixture({
    nodes: NET_N,
    cores: 1,
    memoryBytes: 16 * MIB,
    address: (i) => `10.1.${(i + 1) >> 8}.${(i + 1) & 255}/16`,
  });
  const ready = f.nodes.map((n, i) => f.run(i, 0, () => n.rep().whenReady()));
  await f.sim.run({ untilNs: f.sim.now() + 100e6 });
  const wall = performance.now() - t0;
  const notReady = ready.filter((o) => !o.done || o.error !== undefined).length;
  if (notReady > 0) throw new Error(`${notReady} of ${NET_N} networked nodes did not come up`);
  const after = snapshot();
  const last = `10.1.${NET_N >> 8}.${NET_N & 255}`;
  const ping = f.run(0, 0, () => f.nodes[0]!.rep().ping(last, { count: 1 }));
  const p0 = performance.now();
  await f.sim.run({ untilNs: f.sim.now() + 1e9 });
  if (!ping.done || ping.error !== undefined) throw new Error(`ping 10.1.0.1 -> ${last} failed: ${String(ping.error)}`);
  return perNode(`${NET_N} networked idle nodes on one switch`, NET_N, wall, before, after, {
    pingFirstToLastWallMs: performance.now() - p0,
    pingVirtUs: ping.value![0]! / 1000,
  });
}

export default async function run(): Promise<BenchReport> {
  const results = [await bare(), await networked()];
  const b = results[0]!;
  const n = results[1]!;
  return {
    name: 'many idle nodes in one process',
    results,
    ratios: {
      'idle boot us per node / 1000 us target': (b.bootUsPerNode as number) / 1000,
      'idle heap KiB per node / 200 KiB target': (b.heapKiBPerNode as number) / 200,
      'networked / idle boot per node': (n.bootUsPerNode as number) / (b.bootUsPerNode as number),
      'networked / idle heap per node': (n.heapKiBPerNode as number) / (b.heapKiBPerNode as number),
    },
    notes: [
      `GC before each snapshot: ${gc !== undefined ? 'yes' : 'no (run with NODE_OPTIONS=--expose-gc for clean memory figures)'}`,
      'arrayBufferKiBPerNode counts each machine\'s 16 MiB physical memory as reserved; the OS commits only touched pages (see rssKiBPerNode)',
    ],
  };
}
