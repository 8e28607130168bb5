/**
 * Per-GET cost in the library OS, split into driver / stack / app / event loop
 * (`pnpm bench breakdown`), for the server node AND the gateway node of the port forward (the
 * second simulated stack `pnpm start` puts in the path), from one traced run; breakdown.ts has
 * the method. Side by side in the same run: the same closed-loop GET client against an untraced
 * library OS (what the trace itself costs per round trip).
 *
 * Writes docs/figures/memcached-latency-breakdown.svg (stacked bars: the server node, the
 * gateway, the client's round trip) and, in the JSON, every part's median and p99.
 *
 * On the port forward a second traced run puts the gateway on a virtio-net NIC
 * (`network.gateway.nic: 'virtio'`) instead of the default direct port: the two gateways' bars
 * side by side, and their ratio.
 *
 * Path: the port forward (127.0.0.1, no root needed), or the TAP with EBBRT_BENCH_BD_TAP=1 (root
 * + socat; then there is no gateway). Environment: EBBRT_BENCH_BD_GETS (3000 GETs after 300 of
 * warm-up), EBBRT_BENCH_BD_ROUNDS (3: the traced, untraced and virtio-gateway runs take turns that
 * many times; every figure, the SVG's included, is the median of the rounds' medians, so one
 * round disturbed by the machine's load does not set it).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { median, quantileOf, stackedBarChart, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { closedLoopGets, PHASES, perRequest, readNodeSpans, type Phase, type RequestBreakdown } from './breakdown.js';
import { writeDocsFigure } from './figures.js';
import { REPO_ROOT, TMP_DIR, removeTmp, runCommand, startLibos, type Endpoint, type LibosServer } from './servers.js';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const GETS = num('EBBRT_BENCH_BD_GETS', 3000);
const ROUNDS = Math.round(num('EBBRT_BENCH_BD_ROUNDS', 3));
const WARMUP = 300;
const MEMORY = '256MiB';
const VIA_TAP = process.env.EBBRT_BENCH_BD_TAP === '1';
const TAP_NAME = 'ebbbd0';
const SUBNET = '10.76.0.0/24';
const log = (line: string): void => console.log(`  [breakdown bench] ${line}`);

interface MachineBreakdown {
  /** Median self time per phase (ns). */
  phase: Record<Phase, number>;
  p99: Record<Phase, number>;
  /** Median of each request's sum (the parts' medians need not add up to it). */
  total: number;
  totalP99: number;
  framesIn: number;
  framesOut: number;
  requests: number;
}

function summarise(gets: readonly RequestBreakdown[]): MachineBreakdown {
  const sum = (r: RequestBreakdown): number => PHASES.reduce((a, p) => a + r.ns[p], 0);
  const of = (f: (p: Phase) => number): Record<Phase, number> => Object.fromEntries(PHASES.map((p) => [p, f(p)])) as Record<Phase, number>;
  return {
    phase: of((p) => median(gets.map((r) => r.ns[p]))),
    p99: of((p) => quantileOf(gets.map((r) => r.ns[p]), 0.99)),
    total: median(gets.map(sum)),
    totalP99: quantileOf(gets.map(sum), 0.99),
    framesIn: median(gets.map((r) => r.framesIn)),
    framesOut: median(gets.map((r) => r.framesOut)),
    requests: gets.length,
  };
}

/** Field by field, the median of several rounds' breakdowns. */
function medianOfRounds(bs: readonly MachineBreakdown[]): MachineBreakdown {
  const of = (f: (b: MachineBreakdown) => number): number => median(bs.map(f));
  const phases = (f: (b: MachineBreakdown, p: Phase) => number): Record<Phase, number> => Object.fromEntries(PHASES.map((p) => [p, of((b) => f(b, p))])) as Record<Phase, number>;
  return {
    phase: phases((b, p) => b.phase[p]),
    p99: phases((b, p) => b.p99[p]),
    total: of((b) => b.total),
    totalP99: of((b) => b.totalP99),
    framesIn: of((b) => b.framesIn),
    framesOut: of((b) => b.framesOut),
    requests: of((b) => b.requests),
  };
}

/** The GETs of one machine's trace: request 0 is the SET, then the warm-up; the last one is the close. */
async function machineGets(tracePath: string, machine: string): Promise<RequestBreakdown[]> {
  const all = perRequest(await readNodeSpans(tracePath, machine));
  const gets = all.slice(1 + WARMUP, 1 + WARMUP + GETS);
  if (gets.length < GETS / 2) throw new Error(`${machine}: the trace split into ${all.length} requests, expected ~${GETS + WARMUP + 2}`);
  return gets;
}

async function tapUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  if ((await runCommand('sh', ['-c', 'command -v socat'])).code !== 0) return 'needs socat';
  if ((await runCommand('ip', ['link', 'show', TAP_NAME])).code === 0) return `${TAP_NAME} already exists`;
  return undefined;
}

async function withServer<T>(
  traced: string | undefined,
  f: (at: Endpoint, s: LibosServer) => Promise<T>,
  gatewayNic?: 'virtio',
): Promise<{ value: T; server: LibosServer }> {
  const server = await startLibos({
    memory: MEMORY,
    forward: !VIA_TAP,
    ...(VIA_TAP ? { tap: { name: TAP_NAME, subnet: SUBNET } } : {}),
    ...(traced !== undefined ? { tracePath: traced } : {}),
    ...(gatewayNic !== undefined ? { gatewayNic } : {}),
    label: `libos-${traced !== undefined ? 'traced' : 'untraced'}${gatewayNic ?? ''}`,
  });
  try {
    return { value: await f((VIA_TAP ? server.tap : server.forward)!, server), server };
  } finally {
    await server.stop(30_000); // the CLI writes the trace on SIGTERM
    if (VIA_TAP) for (let i = 0; i < 100 && (await runCommand('ip', ['link', 'show', TAP_NAME])).code === 0; i++) await new Promise((r) => setTimeout(r, 50));
  }
}

export default async function run(): Promise<BenchReport> {
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  const notes: string[] = [];
  const summary: Record<string, unknown> = {};
  if (VIA_TAP) {
    const why = await tapUnavailable();
    if (why !== undefined) throw new Error(`EBBRT_BENCH_BD_TAP=1 but the TAP cannot be used: ${why}`);
  }
  const path = VIA_TAP ? 'TAP' : 'port forward';
  const tracePath = join(TMP_DIR, 'memcached-get.trace.json');
  try {
    const machines: [string, string][] = [['node1', 'server node'], ...(VIA_TAP ? [] : ([['gateway', 'gateway node']] as [string, string][]))];
    // One machine's split: a row per phase, its total, and a log line.
    const record = (label: string, b: MachineBreakdown): void => {
      for (const p of PHASES) results.push({ name: `GET (${path}), ${label}: ${p}`, medianNs: b.phase[p], p99Ns: b.p99[p] });
      results.push({ name: `GET (${path}), ${label}: total`, medianNs: b.total, p99Ns: b.totalP99, framesIn: b.framesIn, framesOut: b.framesOut });
      log(`${label}: ${PHASES.map((p) => `${p} ${(b.phase[p] / 1000).toFixed(2)}`).join(' + ')} µs; total ${(b.total / 1000).toFixed(2)} µs; frames in/out ${b.framesIn}/${b.framesOut}`);
    };
    const rounds = new Map<string, MachineBreakdown[]>();
    const push = (key: string, b: MachineBreakdown): void => void (rounds.get(key) ?? rounds.set(key, []).get(key)!).push(b);
    const rttRounds: { traced: number[]; untraced: number[]; p99: number[]; p99U: number[]; n: number; nU: number } = { traced: [], untraced: [], p99: [], p99U: [], n: 0, nU: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const traced = await withServer(tracePath, (at) => closedLoopGets(at, WARMUP, GETS));
      if (!existsSync(tracePath)) throw new Error(`no trace written: ${traced.server.lines.slice(-5).join(' | ')}`);
      for (const [m] of machines) push(m, summarise(await machineGets(tracePath, m)));
      rttRounds.traced.push(median(traced.value));
      rttRounds.p99.push(quantileOf(traced.value, 0.99));
      rttRounds.n += traced.value.length;
      const untraced = (await withServer(undefined, (at) => closedLoopGets(at, WARMUP, GETS))).value;
      rttRounds.untraced.push(median(untraced));
      rttRounds.p99U.push(quantileOf(untraced, 0.99));
      rttRounds.nU += untraced.length;
      // The same forward with the gateway on virtio-net: only its gateway's split is new.
      if (!VIA_TAP) {
        const virtioTrace = join(TMP_DIR, 'memcached-get-virtio-gw.trace.json');
        await withServer(virtioTrace, (at) => closedLoopGets(at, WARMUP, GETS), 'virtio');
        push('gatewayVirtio', summarise(await machineGets(virtioTrace, 'gateway')));
      }
      const n1 = rounds.get('node1')!.at(-1)!;
      log(`round ${round}/${ROUNDS}: server node total ${(n1.total / 1000).toFixed(2)} µs, round trip ${(rttRounds.traced.at(-1)! / 1000).toFixed(0)} µs traced / ${(rttRounds.untraced.at(-1)! / 1000).toFixed(0)} µs untraced`);
    }
    const per = new Map<string, MachineBreakdown>();
    for (const [m, label] of machines) {
      const b = medianOfRounds(rounds.get(m)!);
      per.set(m, b);
      record(label, b);
      summary[m] = b;
      summary[`${m}Rounds`] = rounds.get(m);
    }
    let gwVirtio: MachineBreakdown | undefined;
    if (!VIA_TAP) {
      gwVirtio = medianOfRounds(rounds.get('gatewayVirtio')!);
      record('gateway node on virtio-net', gwVirtio);
      summary.gatewayVirtio = gwVirtio;
    }
    const rtt = median(rttRounds.traced);
    const rttU = median(rttRounds.untraced);
    results.push({ name: `GET round trip, closed loop, 1 conn (${path}), traced`, medianNs: rtt, p99Ns: median(rttRounds.p99), opsPerSec: 1e9 / rtt, n: rttRounds.n });
    results.push({ name: `GET round trip, closed loop, 1 conn (${path}), untraced`, medianNs: rttU, p99Ns: median(rttRounds.p99U), opsPerSec: 1e9 / rttU, n: rttRounds.nU });
    const uptime = (await runCommand('uptime', [])).output.trim();

    const node = per.get('node1')!;
    const gw = per.get('gateway');
    ratios['server node: app / node total (the paper: the app should dominate)'] = node.phase.app / node.total;
    ratios['server node: (driver + stack) / node total'] = (node.phase.driver + node.phase.stack) / node.total;
    ratios['server node total / client round trip'] = node.total / rtt;
    if (gw !== undefined) {
      ratios['gateway total / server node total'] = gw.total / node.total;
      ratios['gateway total / client round trip'] = gw.total / rtt;
      if (gwVirtio !== undefined) {
        ratios['gateway total: direct port / virtio-net'] = gw.total / gwVirtio.total;
        ratios['gateway driver: direct port / virtio-net'] = gw.phase.driver / gwVirtio.phase.driver;
      }
    }
    ratios['GET round trip traced / untraced'] = rtt / rttU;
    summary.rttNs = { traced: rtt, untraced: rttU };

    // The figure: one bar per machine, and the round trip with what is outside both.
    const us = (ns: number): number => ns / 1000;
    // The same four names for both machines (same colours); the round trip shows the gateway whole.
    const parts = (b: MachineBreakdown): { name: string; value: number }[] => PHASES.map((p) => ({ name: p, value: us(b.phase[p]) }));
    const inMachines = node.total + (gw?.total ?? 0);
    const bars = [
      { label: 'server node', parts: parts(node) },
      ...(gw !== undefined ? [{ label: 'gateway node', parts: parts(gw) }] : []),
      ...(gwVirtio !== undefined ? [{ label: 'gateway on virtio-net', parts: parts(gwVirtio) }] : []),
      {
        label: 'client round trip',
        parts: [...parts(node), ...(gw !== undefined ? [{ name: 'gateway node (all)', value: us(gw.total) }] : []), { name: 'outside the nodes', value: us(Math.max(0, rtt - inMachines)) }],
      },
    ];
    const file = writeDocsFigure(
      'memcached-latency-breakdown.svg',
      stackedBarChart(bars, {
        title: `memcached GET on the library OS via the ${path}: median µs per request (${node.requests} GETs, 1 connection, traced; median of ${ROUNDS} rounds)`,
        unit: 'µs per GET (median of each part)',
        width: 920,
      }),
    );
    mkdirSync(join(REPO_ROOT, 'bench-results'), { recursive: true });
    copyFileSync(tracePath, join(REPO_ROOT, 'bench-results', 'memcached-get.trace.json'));
    summary.bars = bars;
    notes.push(
      `figure: ${file}; trace: bench-results/memcached-get.trace.json (open in Perfetto)`,
      `method (breakdown.ts): the library OS runs with --trace on the realtime clock; @ebbrt/network-manager-lwip records nested spans driver ⊃ stack ⊃ app (TcpHandler callbacks: memcached on the server, the port forward's relay on the gateway); a phase's time is its spans' self time; "event loop" is the rest of the scheduler slices that did request work. 1 connection, binary GET of a 16 B key / 32 B value, ${GETS} GETs after ${WARMUP} of warm-up; medians per GET, then the median of ${ROUNDS} rounds (traced, untraced and virtio-gateway runs taking turns)`,
      `uptime at the end: ${uptime}`,
      `"outside the nodes" = round trip - the nodes' totals: ${VIA_TAP ? 'Linux TCP, the TAP, socat and the UDP bridge' : 'Linux TCP and node:net on both sides of the host socket'}, the simulated NICs and switch (hardware events, outside any core's slice) and the client; tracing itself costs the traced/untraced ratio`,
    );
  } finally {
    removeTmp();
  }
  return { name: `breakdown: per-GET cost in the library OS (${path}): driver / stack / app / event loop`, results, ratios, notes, ...{ summary } };
}
