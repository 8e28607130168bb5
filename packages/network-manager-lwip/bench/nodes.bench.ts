/**
 * Many idle nodes in one process (issue 17 item 7), side by side in one run:
 *
 * - bare: IDLE_N native nodes (1 core, 16 MiB; EventManager, Timer, SLQB), booted on one
 *   Simulation, then run to quiescence;
 * - networked: NET_N nodes that also have a virtio NIC, lwIP's stack and a link to one switch
 *   (10.1.x.y/16), all brought up (whenReady), then the first pings the last across the switch.
 *
 * Per node: wall time to construct and boot, and the growth of the JS heap and of the process RSS,
 * each after a full GC (the bench enables gc() itself); the process's peak RSS. Timings never fail
 * the run; memory does: an RSS watchdog (checked every 100 nodes and after each part) stops the run
 * with an error naming the part once RSS passes EBBRT_BENCH_RSS_LIMIT_MIB (default 6144). Before
 * guest memory was mapped by V8's page allocator, every machine after the first collected one cost
 * its whole 16 MiB (glibc's heap, see hw-x86sim's allocateGuestMemory): 12 GB in 20 s here.
 *
 * Each part runs in 3 rounds (the parts take turns) and reports medians. Beside the default
 * (shared guest memory) it runs fewer nodes with `guestMemory: 'private'` (ArrayBuffers, what every
 * machine had before): V8 counts those bytes as external memory and collects every few machines,
 * so 10,000 of them take minutes; the ratio is per node.
 */
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Simulation, type GuestMemoryKind } from '@ebbrt/hw-x86sim';
import { bareNode, netFixture } from '@ebbrt/testkit/net';
import { median, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';

const IDLE_N = Number(process.env.EBBRT_BENCH_IDLE_NODES ?? 10_000);
const NET_N = Number(process.env.EBBRT_BENCH_NET_NODES ?? 1_000);
const PRIVATE_IDLE_N = Number(process.env.EBBRT_BENCH_PRIVATE_IDLE_NODES ?? 500);
const PRIVATE_NET_N = Number(process.env.EBBRT_BENCH_PRIVATE_NET_NODES ?? 200);
const ROUNDS = 3;
const RSS_LIMIT_MIB = Number(process.env.EBBRT_BENCH_RSS_LIMIT_MIB ?? 6144);
const MIB = 1 << 20;

interface Mem {
  heap: number;
  rss: number;
}

/** Throws, naming the part and node, once RSS passes the limit (a leak must not take the machine down). */
function watchdog(part: string, node: number): void {
  const rss = process.memoryUsage.rss();
  if (rss > RSS_LIMIT_MIB * MIB) {
    throw new Error(
      `nodes.bench part "${part}": RSS ${(rss / MIB).toFixed(0)} MiB passed EBBRT_BENCH_RSS_LIMIT_MIB=${RSS_LIMIT_MIB} at node ${node}: ` +
        'guest memory or nodes of earlier parts are not being released',
    );
  }
}

/** The process's peak RSS so far, MiB (getrusage: includes moments between checks). */
function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
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
  return { heap: m.heapUsed, rss: m.rss };
}

function perNode(name: string, n: number, wallMs: number, before: Mem, after: Mem, extra: Record<string, number> = {}): BenchResult {
  return {
    name,
    medianNs: (wallMs * 1e6) / n,
    nodes: n,
    bootUsPerNode: (wallMs * 1000) / n,
    heapKiBPerNode: (after.heap - before.heap) / 1024 / n,
    rssKiBPerNode: (after.rss - before.rss) / 1024 / n,
    ...extra,
  };
}

async function bare(n: number, guestMemory: GuestMemoryKind): Promise<BenchResult> {
  const before = snapshot();
  const t0 = performance.now();
  const sim = new Simulation({ seed: 1, guestMemory });
  const nodes = [];
  const part = `idle ${guestMemory}`;
  for (let i = 0; i < n; i++) {
    if (i % 100 === 0) watchdog(part, i);
    nodes.push(bareNode(sim, i, 1, 16 * MIB));
  }
  const r = await sim.run();
  watchdog(part, n);
  const wall = performance.now() - t0;
  const after = snapshot();
  const res = perNode(`${n} idle nodes (1 core, 16 MiB, no NIC), ${guestMemory} memory`, n, wall, before, after, { slices: r.slices });
  nodes.length = 0;
  return res;
}

async function networked(n: number, guestMemory: GuestMemoryKind): Promise<BenchResult> {
  const before = snapshot();
  const t0 = performance.now();
  watchdog(`networked ${guestMemory}`, 0);
  const f = netFixture({
    nodes: n,
    cores: 1,
    memoryBytes: 16 * MIB,
    guestMemory,
    address: (i) => `10.1.${(i + 1) >> 8}.${(i + 1) & 255}/16`,
  });
  const ready = f.nodes.map((node, i) => f.run(i, 0, () => node.rep().whenReady()));
  await f.sim.run({ untilNs: f.sim.now() + 100e6 });
  watchdog(`networked ${guestMemory}`, n);
  const wall = performance.now() - t0;
  const notReady = ready.filter((o) => !o.done || o.error !== undefined).length;
  if (notReady > 0) throw new Error(`${notReady} of ${n} networked nodes did not come up`);
  const after = snapshot();
  const last = `10.1.${n >> 8}.${n & 255}`;
  const ping = f.run(0, 0, () => f.nodes[0]!.rep().ping(last, { count: 1 }));
  const p0 = performance.now();
  await f.sim.run({ untilNs: f.sim.now() + 1e9 });
  if (!ping.done || ping.error !== undefined) throw new Error(`ping 10.1.0.1 -> ${last} failed: ${String(ping.error)}`);
  return perNode(`${n} networked idle nodes on one switch (NIC + lwIP), ${guestMemory} memory`, n, wall, before, after, {
    pingFirstToLastWallMs: performance.now() - p0,
    pingVirtUs: ping.value![0]! / 1000,
  });
}

/** The median of each numeric field over the rounds (the name and node count are the first's). */
function medianResult(rounds: BenchResult[]): BenchResult {
  const out: Record<string, unknown> = { ...rounds[0]!, rounds: rounds.length };
  for (const [k, v] of Object.entries(rounds[0]!)) {
    if (typeof v !== 'number' || k === 'nodes') continue;
    const xs = rounds.map((r) => r[k as keyof BenchResult] as number);
    // A later round reuses heap pages freed by the earlier parts (its RSS growth can be negative):
    // the largest round is the one that says what a node costs.
    out[k] = k === 'rssKiBPerNode' ? Math.max(...xs) : median(xs);
  }
  return out as unknown as BenchResult;
}

export default async function run(): Promise<BenchReport> {
  const parts: [string, () => Promise<BenchResult>][] = [
    ['idle', () => bare(IDLE_N, 'shared')],
    ['idle private', () => bare(PRIVATE_IDLE_N, 'private')],
    ['net', () => networked(NET_N, 'shared')],
    ['net private', () => networked(PRIVATE_NET_N, 'private')],
  ];
  const rounds = new Map<string, BenchResult[]>(parts.map(([k]) => [k, []]));
  const rssAfterRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, f] of parts) rounds.get(k)!.push(await f());
    rssAfterRound.push(snapshot().rss / MIB);
  }
  const [b, bp, n, np] = parts.map(([k]) => medianResult(rounds.get(k)!)) as [BenchResult, BenchResult, BenchResult, BenchResult];
  const f = (r: BenchResult, k: string) => r[k as keyof BenchResult] as number;
  const load = loadavg().map((x) => x.toFixed(1)).join(' / ');
  return {
    name: 'many idle nodes in one process',
    results: [b, bp, n, np],
    ratios: {
      'idle boot us per node / 1000 us target': f(b, 'bootUsPerNode') / 1000,
      'idle RSS KiB per node / 200 KiB target': f(b, 'rssKiBPerNode') / 200,
      'idle heap KiB per node / 200 KiB target': f(b, 'heapKiBPerNode') / 200,
      'idle boot per node, shared / private memory': f(b, 'bootUsPerNode') / f(bp, 'bootUsPerNode'),
      'idle RSS per node, shared / private memory': f(b, 'rssKiBPerNode') / f(bp, 'rssKiBPerNode'),
      'networked boot per node, shared / private memory': f(n, 'bootUsPerNode') / f(np, 'bootUsPerNode'),
      'networked RSS per node, shared / private memory': f(n, 'rssKiBPerNode') / f(np, 'rssKiBPerNode'),
      'networked / idle boot per node': f(n, 'bootUsPerNode') / f(b, 'bootUsPerNode'),
      'networked / idle heap per node': f(n, 'heapKiBPerNode') / f(b, 'heapKiBPerNode'),
      'peak RSS MiB / watchdog limit': peakRssMiB() / RSS_LIMIT_MIB,
    },
    notes: [
      `medians of ${ROUNDS} rounds, the parts taking turns; load average at the end: ${load}`,
      `RSS after each round, its nodes dropped: ${rssAfterRound.map((x) => x.toFixed(0)).join(', ')} MiB (flat: nothing of a round stays); rssKiBPerNode is the largest round's`,
      `GC before each snapshot: ${gc !== undefined ? 'yes' : 'no (run with NODE_OPTIONS=--expose-gc for clean memory figures)'}`,
      `peak RSS of the process over the whole bench: ${peakRssMiB().toFixed(0)} MiB (watchdog limit ${RSS_LIMIT_MIB} MiB); each machine reserves 16 MiB of address space, the OS backs only touched pages`,
      `the private-memory baselines boot fewer nodes (${PRIVATE_IDLE_N} idle, ${PRIVATE_NET_N} networked): per node they would grow with the count (a GC every few machines, each slower as the heap grows)`,
    ],
  };
}
