/**
 * memcached: our app (hosted on node:net, and as a library OS on the simulated machine) against
 * real memcached and a naive node:net server, in one run (`pnpm bench memcached`).
 *
 * 1. memcaslap, 16 B keys, 32 B values, 9:1 get:set, binary protocol, `-T 2 -c 64`, SECONDS per
 *    run, RUNS rounds (each round runs every server once, so drift hits all alike): ops/s medians
 *    and ratios to `memcached -t 1`. Servers: the app on the hosted NetworkManager; the app as a
 *    library OS reached through a Linux TAP (needs root + socat) and through the 127.0.0.1 port
 *    forward (the runtime's gateway node, our own stack on both sides); `memcached -t 1`; and the
 *    naive node:net server in naive-server.ts.
 * 2. Sweeps for the figures (one SWEEP_SECONDS run per point): throughput vs concurrent
 *    connections and vs value size, written as SVG to bench-results/.
 * 3. (The per-GET latency breakdown of the library OS is its own bench: breakdown.bench.ts.)
 * 5. `tap`: the TAP path's options side by side (socket buffers, MTU 9000) at TAP_SIZES, with
 *    memcached -t 1 at the same points, and each variant's loss counters (tap-options.ts).
 * 4. `sim`: the simulated stack's own capacity, with no Linux in the path: the app on one
 *    simulated node and a closed-loop load generator (same mix as memcaslap: 16 B keys, 32 B
 *    values, 9:1, binary, 64 connections) on another node of the same simulation, in this
 *    process (sim-load.ts). Ops per wall second and per virtual second, median of RUNS runs of
 *    SIM_SECONDS, and the ratio to `memcached -t 1` when part 1 ran.
 * 6. `simsizes`: as `sim`, 512 B against 16 KiB values at each of SIM_MTUS, interleaved; the
 *    ratio 512 B ÷ 16 KiB per MTU and frames per op (sim-sizes.ts).
 *
 * Every server runs in its own child process (servers.ts says why); all of them are stopped, and
 * the TAP removed, even when a step fails. Parts whose prerequisites are missing are skipped with
 * a note. Timings never fail the run.
 *
 * Environment: EBBRT_BENCH_MC_SECONDS (3), EBBRT_BENCH_MC_RUNS (3), EBBRT_BENCH_MC_SWEEP_SECONDS (2),
 * EBBRT_BENCH_MC_CONNS (1,4,16,64,256), EBBRT_BENCH_MC_SIZES (32,128,512,2048,8192,16384),
 * EBBRT_BENCH_MC_PARTS (main,conns,sizes,tap,sim,simsizes), EBBRT_BENCH_MC_TAP_SIZES (32,512,16384),
 * EBBRT_BENCH_MC_SIM_MTUS (1500,9000: the simsizes part's MTUs, 512 B vs 16 KiB values sim to sim),
 * EBBRT_BENCH_MC_SIM_SECONDS (3 wall seconds per sim run, after 1 s of warm-up),
 * EBBRT_BENCH_MC_TAP (TAP name, ebbmcb0) and EBBRT_BENCH_MC_SUBNET (10.77.0.0/24).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, median, serverStarter, type BenchReport, type BenchResult, type PlotSeries } from '@ebbrt/bench-kit';
import { runMemcaslap, type MemcaslapResult } from './memcaslap.js';
import { runSimLoad, type SimLoadResult } from './sim-load.js';
import { simSizesPart } from './sim-sizes.js';
import { tapPart } from './tap-options.js';
import {
  REPO_ROOT,
  removeTmp,
  runCommand,
  startHosted,
  startLibos,
  startMemcached,
  startNaive,
  type Endpoint,
  type LibosServer,
  type ServerProcess,
} from './servers.js';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const list = (name: string, dflt: number[]): number[] => {
  const v = process.env[name]?.split(',').map(Number).filter((x) => Number.isFinite(x) && x > 0);
  return v !== undefined && v.length > 0 ? v : dflt;
};
const SECONDS = num('EBBRT_BENCH_MC_SECONDS', 3);
const RUNS = num('EBBRT_BENCH_MC_RUNS', 3);
const SWEEP_SECONDS = num('EBBRT_BENCH_MC_SWEEP_SECONDS', 2);
const CONNS = list('EBBRT_BENCH_MC_CONNS', [1, 4, 16, 64, 256]);
const SIZES = list('EBBRT_BENCH_MC_SIZES', [32, 128, 512, 2048, 8192, 16384]);
const SIM_SECONDS = num('EBBRT_BENCH_MC_SIM_SECONDS', 3);
const PARTS = new Set((process.env.EBBRT_BENCH_MC_PARTS ?? 'main,conns,sizes,tap,sim,simsizes').split(','));
const SIM_MTUS = list('EBBRT_BENCH_MC_SIM_MTUS', [1500, 9000]);
const TAP_SIZES = list('EBBRT_BENCH_MC_TAP_SIZES', [32, 512, 16384]);
const TAP_NAME = process.env.EBBRT_BENCH_MC_TAP ?? 'ebbmcb0';
const SUBNET = process.env.EBBRT_BENCH_MC_SUBNET ?? '10.77.0.0/24';

const KEY_BYTES = 16;
const VALUE_BYTES = 32;
const GET_RATIO = 0.9;
const THREADS = 2;
const CONNECTIONS = 64;
const MEMORY = '256MiB';
const RESULTS_DIR = join(REPO_ROOT, 'bench-results');

type TargetKey = 'hosted' | 'tap' | 'forward' | 'forwardVirtio' | 'memcached' | 'naive';
interface Target {
  key: TargetKey;
  label: string;
  endpoint: Endpoint;
  server: ServerProcess;
}

const LABELS: Record<TargetKey, string> = {
  hosted: 'app, hosted (node:net)',
  tap: 'app, library OS via TAP',
  forward: 'app, library OS via port forward',
  forwardVirtio: 'app, library OS via port forward, gateway on virtio-net',
  memcached: 'memcached -t 1',
  naive: 'naive node:net server',
};

async function onPath(tool: string): Promise<boolean> {
  return (await runCommand('sh', ['-c', `command -v ${tool}`])).code === 0;
}

/** Why the bench cannot give the library OS a TAP here, or undefined. */
async function tapUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  for (const tool of ['socat', 'ip']) if (!(await onPath(tool))) return `needs ${tool} on PATH`;
  if ((await runCommand('ip', ['link', 'show', TAP_NAME])).code === 0) {
    return `a network interface named ${TAP_NAME} already exists (another bench run? set EBBRT_BENCH_MC_TAP)`;
  }
  return undefined;
}

/** Waits for the TAP to disappear after its server stopped (socat owns it). */
async function tapGone(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await runCommand('ip', ['link', 'show', TAP_NAME])).code !== 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  // socat is gone with its process group; a TAP left behind is ours: remove it.
  await runCommand('ip', ['link', 'delete', TAP_NAME]);
}

const fmt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const log = (line: string): void => console.log(`  [memcached bench] ${line}`);

export default async function run(): Promise<BenchReport> {
  const notes: string[] = [];
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  const servers: ServerProcess[] = [];
  const figures: Record<string, unknown> = {};
  /** memcaslap medians of part 1, for the sim part's ratios. */
  const mainMedians = new Map<TargetKey, number>();
  mkdirSync(RESULTS_DIR, { recursive: true });

  const haveMemcaslap = await onPath('memcaslap');
  const haveMemcached = await onPath('memcached');
  let tapReason = await tapUnavailable();
  if (!haveMemcaslap) notes.push('memcaslap not found (apt-get install -y libmemcached-tools): throughput parts skipped');
  if (!haveMemcached) notes.push('memcached not found (apt-get install -y memcached): no memcached -t 1 baseline, no ratios to it');
  if (tapReason !== undefined) notes.push(`library OS via TAP skipped: ${tapReason}; the port forward row and sweeps stand in for it`);

  try {
    if (!haveMemcaslap || !(PARTS.has('main') || PARTS.has('conns') || PARTS.has('sizes') || PARTS.has('tap'))) {
      if (PARTS.has('sim')) await simPart(notes, ratios, results, mainMedians);
      if (PARTS.has('simsizes')) await simSizesPart({ runs: RUNS, seconds: SIM_SECONDS, mtus: SIM_MTUS, log }, notes, ratios, results);
      return { name: 'memcached: app (hosted, library OS) vs memcached -t 1 vs naive node:net', results, ratios, notes };
    }

    // ------------------------------------------------ the servers under test
    const targets: Target[] = [];
    const start = serverStarter(servers, notes);
    const hosted = await start('hosted app', () => startHosted(MEMORY));
    if (hosted) targets.push({ key: 'hosted', label: LABELS.hosted, endpoint: hosted.endpoint, server: hosted });
    let libos: LibosServer | undefined;
    if (tapReason === undefined) {
      libos = await start('library OS with TAP', () => startLibos({ memory: MEMORY, forward: true, tap: { name: TAP_NAME, subnet: SUBNET } }));
      if (libos === undefined) {
        tapReason = 'the TAP did not come up';
        await tapGone();
      }
    }
    libos ??= await start('library OS', () => startLibos({ memory: MEMORY, forward: true }));
    if (libos?.tap) targets.push({ key: 'tap', label: LABELS.tap, endpoint: libos.tap, server: libos });
    if (libos?.forward) targets.push({ key: 'forward', label: LABELS.forward, endpoint: libos.forward, server: libos });
    // The same forward with the gateway on a virtio-net NIC (network.gateway.nic), for the ratio
    // of the two gateways in one run; only the main part measures it.
    if (PARTS.has('main')) {
      const v = await start('library OS, virtio gateway', () => startLibos({ memory: MEMORY, forward: true, gatewayNic: 'virtio', label: 'libos-virtio-gw' }));
      if (v?.forward) targets.push({ key: 'forwardVirtio', label: LABELS.forwardVirtio, endpoint: v.forward, server: v });
    }
    if (haveMemcached) {
      const mc = await start('memcached -t 1', () => startMemcached(256));
      if (mc) targets.push({ key: 'memcached', label: LABELS.memcached, endpoint: mc.endpoint, server: mc });
    }
    const naive = await start('naive node:net server', () => startNaive());
    if (naive) targets.push({ key: 'naive', label: LABELS.naive, endpoint: naive.endpoint, server: naive });

    const measure = async (t: Target, connections: number, valueBytes: number, seconds: number): Promise<MemcaslapResult> => {
      if (!t.server.alive()) {
        return { tps: NaN, ops: 0, runSeconds: NaN, getMisses: undefined, errors: [`${t.server.name} is not running`], output: '' };
      }
      const r = await runMemcaslap({
        server: `${t.endpoint.host}:${t.endpoint.port}`,
        connections,
        threads: THREADS,
        seconds,
        keyBytes: KEY_BYTES,
        valueBytes,
        getRatio: GET_RATIO,
        binary: true,
      });
      log(`${t.label}: c=${connections} value=${valueBytes} B: ${fmt(r.tps)} ops/s${r.errors.length ? ` (client: ${r.errors[0]})` : ''}`);
      if (r.errors.length > 0 || !Number.isFinite(r.tps)) {
        notes.push(`${t.label}, c=${connections}, ${valueBytes} B values: memcaslap said: ${r.errors.join(' | ').slice(0, 300)}`);
      }
      return r;
    };

    // ------------------------------------------------ 1. side by side, c = 64
    if (PARTS.has('main')) {
      const tps = new Map<TargetKey, number[]>(targets.map((t) => [t.key, []]));
      const misses = new Map<TargetKey, number>();
      for (let round = 0; round < RUNS; round++) {
        for (const t of targets) {
          const r = await measure(t, CONNECTIONS, VALUE_BYTES, SECONDS);
          if (Number.isFinite(r.tps)) tps.get(t.key)!.push(r.tps);
          misses.set(t.key, (misses.get(t.key) ?? 0) + (r.getMisses ?? 0));
        }
      }
      const medians = new Map<TargetKey, number>();
      for (const t of targets) {
        const runs = tps.get(t.key)!;
        const m = median(runs);
        medians.set(t.key, m);
        mainMedians.set(t.key, m);
        results.push({
          name: `memcaslap ${t.label}`,
          medianNs: 1e9 / m,
          opsPerSec: m,
          minOpsPerSec: runs.length ? Math.min(...runs) : NaN,
          maxOpsPerSec: runs.length ? Math.max(...runs) : NaN,
          runs: runs.length,
          getMisses: misses.get(t.key) ?? 0,
        });
      }
      const mc = medians.get('memcached');
      const ratio = (name: string, a: TargetKey, b: number | undefined): void => {
        const x = medians.get(a);
        if (x !== undefined && b !== undefined && Number.isFinite(x) && Number.isFinite(b) && b > 0) ratios[name] = x / b;
      };
      ratio('hosted/memcached_t1 ops/s (aim >= 1.0)', 'hosted', mc);
      ratio('tap/memcached_t1 ops/s (aim >= 0.5)', 'tap', mc);
      ratio('forward/memcached_t1 ops/s', 'forward', mc);
      ratio('forward, gateway on virtio-net/memcached_t1 ops/s', 'forwardVirtio', mc);
      ratio('forward: direct-port gateway / virtio-net gateway ops/s', 'forward', medians.get('forwardVirtio'));
      ratio('naive/memcached_t1 ops/s', 'naive', mc);
      ratio('hosted/naive ops/s', 'hosted', medians.get('naive'));
      ratio('tap/hosted ops/s', 'tap', medians.get('hosted'));
      notes.push(
        `memcaslap -B (binary), ${KEY_BYTES} B keys, ${VALUE_BYTES} B values, ${GET_RATIO * 10}:${10 - GET_RATIO * 10} get:set (-F workload file), -T ${THREADS} -c ${CONNECTIONS}, ${SECONDS} s per run, median of ${RUNS} rounds (each round runs every server once); medianNs = 1e9 / median ops/s`,
      );
    }

    // ------------------------------------------------ 2. sweeps and figures
    const sweepTargets = targets.filter((t) => t.key !== 'forwardVirtio' && (t.key !== 'forward' || !targets.some((x) => x.key === 'tap')));
    const sweep = async (xs: readonly number[], point: (t: Target, x: number) => Promise<MemcaslapResult>): Promise<PlotSeries[]> => {
      const series = new Map<TargetKey, { x: number; y: number }[]>(sweepTargets.map((t) => [t.key, []]));
      for (const x of xs) {
        for (const t of sweepTargets) {
          const r = await point(t, x);
          series.get(t.key)!.push({ x, y: r.tps });
        }
      }
      return sweepTargets.map((t) => ({ name: t.label, points: series.get(t.key)! }));
    };
    const writeFigure = (file: string, svg: string, data: unknown): string => {
      const path = join(RESULTS_DIR, file);
      writeFileSync(path, svg);
      figures[file] = data;
      console.log(`  [memcached bench] wrote ${path}`);
      return path;
    };
    if (PARTS.has('conns')) {
      const series = await sweep(CONNS, (t, c) => measure(t, c, VALUE_BYTES, SWEEP_SECONDS));
      const path = writeFigure(
        'memcached-throughput-vs-connections.svg',
        lineChart(series, {
          title: `memcached throughput vs connections (${VALUE_BYTES} B values, 9:1 get:set, binary)`,
          xLabel: 'concurrent connections (memcaslap -c)',
          yLabel: 'ops/s',
          xLog2: true,
        }),
        series,
      );
      notes.push(`figure: ${path} (${SWEEP_SECONDS} s per point, -T ${THREADS} (-T 1 at c=1))`);
    }
    if (PARTS.has('sizes')) {
      const series = await sweep(SIZES, (t, v) => measure(t, CONNECTIONS, v, SWEEP_SECONDS));
      const path = writeFigure(
        'memcached-throughput-vs-value-size.svg',
        lineChart(series, {
          title: `memcached throughput vs value size (c=${CONNECTIONS}, 9:1 get:set, binary)`,
          xLabel: 'value size (bytes)',
          yLabel: 'ops/s',
          xLog2: true,
          formatX: (x) => (x >= 1024 ? `${x / 1024}K` : String(x)),
        }),
        series,
      );
      notes.push(`figure: ${path} (${SWEEP_SECONDS} s per point)`);
      // Issue 17 item 5 side by side: how far each server falls from 512 B to 16 KiB values.
      for (const s of series) {
        const small = s.points.find((p) => p.x === 512)?.y;
        const big = s.points.find((p) => p.x === 16384)?.y;
        if (small !== undefined && big !== undefined && Number.isFinite(small) && Number.isFinite(big) && big > 0) {
          ratios[`${s.name}: ops/s 512 B / 16 KiB values (aim <= 2 for the library OS)`] = small / big;
        }
      }
    }
    if (PARTS.has('tap')) {
      if (tapReason !== undefined) notes.push(`tap part skipped: ${tapReason}`);
      else {
        const mc = targets.find((t) => t.key === 'memcached');
        const part = await tapPart({
          sizes: TAP_SIZES,
          runs: RUNS,
          seconds: SECONDS,
          connections: CONNECTIONS,
          threads: THREADS,
          keyBytes: KEY_BYTES,
          getRatio: GET_RATIO,
          memory: MEMORY,
          memcached: mc?.endpoint,
          tapPrefix: `${TAP_NAME.slice(0, 12)}v`,
          log,
          servers,
        });
        results.push(...part.results);
        Object.assign(ratios, part.ratios);
        notes.push(...part.notes);
        figures['tap-options'] = part.figures;
      }
    }
    for (const s of servers) {
      if (!s.alive()) notes.push(`${s.name} exited during the bench: ${s.lines.slice(-3).join(' | ')}`);
      const failed = s.lines.filter((l) => / failed: |Error:|failed events/.test(l) && !/ 0 failed events/.test(l));
      if (failed.length > 0) notes.push(`${s.name} reported: ${failed.slice(0, 3).join(' | ').slice(0, 400)}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    if (tapReason === undefined) await tapGone();
    removeTmp();
  }
  // After the servers stopped: the sim runs in this process and wants the cores to itself.
  if (PARTS.has('sim')) await simPart(notes, ratios, results, mainMedians);
  if (PARTS.has('simsizes')) await simSizesPart({ runs: RUNS, seconds: SIM_SECONDS, mtus: SIM_MTUS, log }, notes, ratios, results);
  const report: BenchReport & { figures: Record<string, unknown> } = {
    name: 'memcached: app (hosted, library OS) vs memcached -t 1 vs naive node:net',
    results,
    ratios,
    notes: [
      ...notes,
      'servers run in child processes (one node process each; servers.ts); on this 2-core machine memcaslap (-T 2) and the server share the cores alike for every server',
    ],
    figures,
  };
  return report;
}

/** Part 4: memcached on a simulated node, loaded from another simulated node (sim-load.ts). */
async function simPart(notes: string[], ratios: Record<string, number>, results: BenchResult[], mainMedians: Map<TargetKey, number>): Promise<void> {
  const runs: SimLoadResult[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await runSimLoad({ seconds: SIM_SECONDS, connections: CONNECTIONS, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, getRatio: GET_RATIO, seed: i + 1 });
      log(`sim -> sim: ${fmt(r.opsPerWallSecond)} ops/wall s, ${fmt(r.opsPerVirtualSecond)} ops/virtual s, ${r.framesPerOp.toFixed(2)} frames/op${r.errors.length ? ` (${r.errors[0]})` : ''}`);
      if (r.errors.length > 0) notes.push(`sim run ${i + 1}: ${r.errors.join(' | ').slice(0, 300)}`);
      runs.push(r);
    }
  } catch (e) {
    notes.push(`sim part failed: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const wall = runs.map((r) => r.opsPerWallSecond);
  const m = median(wall);
  results.push({
    name: 'app, library OS <- load generator on another simulated node (ops per wall s)',
    medianNs: 1e9 / m,
    opsPerSec: m,
    minOpsPerSec: Math.min(...wall),
    maxOpsPerSec: Math.max(...wall),
    runs: runs.length,
    getMisses: runs.reduce((a, r) => a + r.getMisses, 0),
  });
  const virt = median(runs.map((r) => r.opsPerVirtualSecond));
  results.push({ name: 'app, library OS <- load generator on another simulated node (ops per virtual s)', medianNs: 1e9 / virt, opsPerSec: virt, runs: runs.length });
  const mc = mainMedians.get('memcached');
  if (mc !== undefined && Number.isFinite(mc) && mc > 0) ratios['sim/memcached_t1 ops/s (wall)'] = m / mc;
  const tap = mainMedians.get('tap') ?? mainMedians.get('forward');
  if (tap !== undefined && Number.isFinite(tap) && tap > 0) ratios[`sim/${mainMedians.has('tap') ? 'tap' : 'forward'} ops/s (wall)`] = m / tap;
  notes.push(
    `sim: memcached (startMemcached, threads 2) on a 2-core simulated node, a closed-loop binary load generator (${CONNECTIONS} connections from both cores, one request in flight each, ${KEY_BYTES} B keys from 1024, ${VALUE_BYTES} B values, ${GET_RATIO * 10}:${10 - GET_RATIO * 10} get:set, keys filled first) on a second node, one switch, 10 µs links, virtual clock, in the bench process; ${SIM_SECONDS} s per run after 1 s warm-up, median of ${RUNS} runs (seeds 1..${RUNS}); the generator's node runs our stack too, so the wall figure pays for both ends of every frame; ${median(runs.map((r) => r.framesPerOp)).toFixed(2)} frames per op on the wire. Per virtual second CPU work costs nothing: that figure is bound by link latency x connections`,
  );
}
