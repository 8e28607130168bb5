/**
 * Tail latency at an SLA (`pnpm bench sla`): the open-loop load generator of
 * `@ebbrt/bench-kit/loadgen` (binary protocol, 9:1 get:set, 16 B keys, 32 B values, 64
 * connections, Poisson arrivals, latency from the intended send time into an HDR histogram) run
 * the same way against memcached -t 1, the naive node:net server, our app on the hosted
 * NetworkManager, and the app as a library OS through the port forward and (root + socat) TAP.
 *
 * Per server: the peak (closed loop, one request in flight per connection), p50/p99/p99.9 at 25,
 * 50 and 75 % of that peak, and the highest rate with p99 under the SLA (a bisection from 5 % of
 * the peak). Every probe is a point of docs/figures/memcached-p99-vs-load.svg (p99 against
 * offered load, log y, the SLA line). The generator runs in this process; it sleeps between
 * requests and a pacer thread wakes it shortly before the next is due (a rationed spin, no spinning core). Its own lateness
 * (actual send - intended send, an HDR histogram) is printed beside every p99 with the latency from
 * the actual send (what coordinated omission would report); a probe whose lateness p99 is over a
 * fifth of the SLA is marked generator-limited. As root the generator runs SCHED_FIFO while it
 * measures (EBBRT_BENCH_SLA_RT, priority 20; 0 = off), so other processes on a shared machine do
 * not delay its sends by a time slice; it sleeps between sends, so it takes only the CPU it uses.
 *
 * Environment: EBBRT_BENCH_SLA_SECONDS (1 s per point), EBBRT_BENCH_SLA_US (500),
 * EBBRT_BENCH_SLA_STEPS (5), EBBRT_BENCH_SLA_VALUE (32), EBBRT_BENCH_SLA_SERVERS
 * (memcached,naive,hosted,forward,tap,cores; cores = item 6, a 1-core vs a 2-core library-OS node at
 * the same offered loads), EBBRT_BENCH_SLA_QUICK=1 (0.4 s per point, 3 steps),
 * EBBRT_BENCH_SLA_RT (20; 0 = normal scheduling), EBBRT_BENCH_SLA_SERVER_RT (0 = off; P runs every
 * server's process group SCHED_FIFO P, below the generator: on a machine other people load, the
 * servers then compete only with each other and the generator; off by default). Run it with
 * `pnpm bench sla.bench` (plain `sla` also matches core-translation's bench).
 */
import { existsSync } from 'node:fs';
import { lineChart, serverStarter, type BenchReport, type BenchResult, type PlotSeries } from '@ebbrt/bench-kit';
import { runTcpLoad, searchMaxRate, type LoadMode, type TcpLoadResult } from '@ebbrt/bench-kit/loadgen';
import { writeDocsFigure } from './figures.js';
import { removeTmp, runCommand, startHosted, startLibos, startMemcached, startNaive, type Endpoint, type ServerProcess } from './servers.js';

const quick = process.env.EBBRT_BENCH_SLA_QUICK === '1' || process.argv.includes('--quick');
const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const SECONDS = num('EBBRT_BENCH_SLA_SECONDS', quick ? 0.4 : 1);
const SLA_NS = num('EBBRT_BENCH_SLA_US', 500) * 1000;
const STEPS = num('EBBRT_BENCH_SLA_STEPS', quick ? 3 : 5);
const VALUE = num('EBBRT_BENCH_SLA_VALUE', 32);
const SERVERS = new Set((process.env.EBBRT_BENCH_SLA_SERVERS ?? 'memcached,naive,hosted,forward,tap,cores').split(','));
const CONNECTIONS = 64;
const RT = process.env.EBBRT_BENCH_SLA_RT === undefined ? 20 : Number(process.env.EBBRT_BENCH_SLA_RT);
const SERVER_RT = Number(process.env.EBBRT_BENCH_SLA_SERVER_RT ?? 0);
/** A probe whose generator lateness p99 is over this measured the generator as much as the server. */
const LATE_LIMIT_NS = SLA_NS / 5;
const TAP_NAME = process.env.EBBRT_BENCH_SLA_TAP ?? 'ebbslab0';
const SUBNET = '10.78.0.0/24';
/** The cores part's own TAP: the main library OS (and its TAP) is still up then. */
const CORES_TAP = `${TAP_NAME}c`;
const CORES_SUBNET = '10.79.0.0/24';
const log = (line: string): void => console.log(`  [sla bench] ${line}`);
const us = (ns: number): string => (Number.isFinite(ns) ? (ns / 1000).toFixed(0) : 'n/a');

interface Target {
  key: string;
  label: string;
  endpoint: Endpoint;
}

/** SCHED_FIFO for the generator when asked for, root and chrt exist; else why not. */
async function realtimeChoice(): Promise<{ priority?: number; why: string }> {
  if (!(RT > 0)) return { why: 'EBBRT_BENCH_SLA_RT=0: normal scheduling' };
  if (process.getuid?.() !== 0) return { why: 'not root: normal scheduling' };
  if ((await runCommand('sh', ['-c', 'command -v chrt'])).code !== 0) return { why: 'no chrt (util-linux): normal scheduling' };
  return { priority: RT, why: `SCHED_FIFO ${RT} while measuring` };
}

/** Every thread of every process in group `pgid` (a server, its socat or TAP helper) SCHED_FIFO. */
async function realtimeGroup(pgid: number, priority: number): Promise<string | undefined> {
  const r = await runCommand('sh', ['-c', `for p in $(pgrep -g ${pgid}); do chrt -a -f -p ${priority} $p || exit 1; done`]);
  return r.code === 0 ? undefined : r.output.trim().slice(0, 200) || `exit ${r.code}`;
}

const lateMark = (r: TcpLoadResult): string => (r.lateness.p99Ns > LATE_LIMIT_NS ? ' [generator-limited]' : '');

async function tapReason(name = TAP_NAME): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  if ((await runCommand('sh', ['-c', 'command -v socat'])).code !== 0) return 'needs socat';
  if ((await runCommand('ip', ['link', 'show', name])).code === 0) return `${name} already exists`;
  return undefined;
}

export default async function run(): Promise<BenchReport> {
  const notes: string[] = [];
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  const servers: ServerProcess[] = [];
  const targets: Target[] = [];
  const series: PlotSeries[] = [];
  const summary: Record<string, unknown> = {};
  const started = serverStarter(servers, notes);
  const start = async <S extends ServerProcess>(what: string, f: () => Promise<S>): Promise<S | undefined> => {
    const s = await started(what, f);
    if (s !== undefined && SERVER_RT > 0 && s.child.pid !== undefined) {
      const why = await realtimeGroup(s.child.pid, SERVER_RT);
      if (why !== undefined) notes.push(`${what}: SCHED_FIFO ${SERVER_RT} not applied: ${why}`);
    }
    return s;
  };
  const rt = await realtimeChoice();
  const uptime = async (): Promise<string> => (await runCommand('uptime', [])).output.trim();
  notes.push(`uptime at start: ${await uptime()}`);
  let generatorLimited = 0;
  let probes = 0;
  try {
    if (SERVERS.has('memcached')) {
      const mc = await start('memcached -t 1', () => startMemcached(256));
      if (mc) targets.push({ key: 'memcached', label: 'memcached -t 1', endpoint: mc.endpoint });
    }
    if (SERVERS.has('naive')) {
      const n = await start('naive node:net', () => startNaive());
      if (n) targets.push({ key: 'naive', label: 'naive node:net server', endpoint: n.endpoint });
    }
    if (SERVERS.has('hosted')) {
      const h = await start('hosted app', () => startHosted('256MiB'));
      if (h) targets.push({ key: 'hosted', label: 'app, hosted (node:net)', endpoint: h.endpoint });
    }
    if (SERVERS.has('forward') || SERVERS.has('tap')) {
      const why = SERVERS.has('tap') ? await tapReason() : 'not asked for';
      if (why !== undefined && SERVERS.has('tap')) notes.push(`library OS via TAP skipped: ${why}`);
      const libos = await start('library OS', () =>
        startLibos({ memory: '256MiB', forward: true, ...(why === undefined ? { tap: { name: TAP_NAME, subnet: SUBNET } } : {}), label: 'libos-sla' }),
      );
      if (libos?.forward && SERVERS.has('forward')) targets.push({ key: 'forward', label: 'library OS via port forward', endpoint: libos.forward });
      if (libos?.tap) targets.push({ key: 'tap', label: 'library OS via TAP', endpoint: libos.tap });
    }

    const measure = async (t: Target, mode: LoadMode): Promise<TcpLoadResult> => {
      const r = await runTcpLoad({ host: t.endpoint.host, port: t.endpoint.port, connections: CONNECTIONS, mode, durationNs: SECONDS * 1e9, warmupNs: 0.2e9, drainNs: 0.5e9, workload: { valueBytes: VALUE }, ...(rt.priority !== undefined ? { realtime: rt.priority } : {}) });
      const what = mode.kind === 'open' ? `${Math.round(mode.rate)}/s` : 'closed loop';
      const late = mode.kind === 'open' ? `; generator late p50 ${us(r.lateness.p50Ns)} / p99 ${us(r.lateness.p99Ns)} µs, p99 from the actual send ${us(r.uncorrected.p99Ns)} µs, generator CPU ${(r.cpuNsPerRequest / 1000).toFixed(1)} µs/request${lateMark(r)}` : '';
      if (mode.kind === 'open') {
        probes++;
        if (lateMark(r) !== '') generatorLimited++;
      }
      log(`${t.label}: ${what}: ${Math.round(r.achievedOpsPerSec)} ops/s, p50 ${us(r.p50Ns)} µs, p99 ${us(r.p99Ns)} µs, p99.9 ${us(r.p999Ns)} µs${late}${r.unanswered ? `, ${r.unanswered} unanswered` : ''}${r.errors.length ? ` (${r.errors[0]})` : ''}`);
      if (r.errors.length > 0) notes.push(`${t.label} ${what}: ${r.errors.join(' | ').slice(0, 300)}`);
      if (r.realtimeError !== undefined && !notes.some((n) => n.startsWith('realtime'))) notes.push(`realtime not applied: ${r.realtimeError}`);
      return r;
    };
    const best = new Map<string, number>();
    for (const t of targets) {
      const peakRun = await measure(t, { kind: 'closed' });
      const peak = peakRun.achievedOpsPerSec;
      results.push({ name: `${t.label}: peak (closed loop, ${CONNECTIONS} conns)`, medianNs: peakRun.p50Ns, p99Ns: peakRun.p99Ns, opsPerSec: peak });
      const points: { x: number; y: number }[] = [];
      const at: Record<string, unknown> = { peak };
      if (!(peak > 0)) {
        notes.push(`${t.label}: no peak measured`);
        continue;
      }
      for (const f of [0.25, 0.5, 0.75]) {
        const r = await measure(t, { kind: 'open', rate: peak * f });
        points.push({ x: peak * f, y: r.p99Ns / 1000 });
        results.push({ name: `${t.label} @ ${f * 100}% of peak${lateMark(r)}`, medianNs: r.p50Ns, p99Ns: r.p99Ns, p999Ns: r.p999Ns, lateP99Ns: r.lateness.p99Ns, uncorrectedP99Ns: r.uncorrected.p99Ns, genCpuNsPerReq: r.cpuNsPerRequest, opsPerSec: r.achievedOpsPerSec, offered: peak * f, unanswered: r.unanswered });
        at[`${f * 100}%`] = { offered: peak * f, p50Ns: r.p50Ns, p99Ns: r.p99Ns, p999Ns: r.p999Ns, achieved: r.achievedOpsPerSec, lateness: r.lateness, uncorrectedP99Ns: r.uncorrected.p99Ns, genCpuNsPerReq: r.cpuNsPerRequest };
      }
      const lateAt = new Map<number, number>();
      const search = await searchMaxRate(
        async (rate) => {
          const r = await measure(t, { kind: 'open', rate });
          points.push({ x: rate, y: r.p99Ns / 1000 });
          lateAt.set(rate, r.lateness.p99Ns);
          return { rate, p99Ns: r.p99Ns, ok: r.p99Ns < SLA_NS && r.unanswered === 0 && r.errors.length === 0 };
        },
        { lo: peak * 0.05, hi: peak * 1.05, steps: STEPS },
      );
      best.set(t.key, search.bestRate);
      at.slaRate = search.bestRate;
      // The generator's lateness at the failing probe just above the answer: if it was late
      // there, the answer is the generator's limit as much as the server's.
      const failAbove = search.probes.filter((p) => !p.ok && p.rate > search.bestRate).sort((a, b) => a.rate - b.rate)[0];
      const lateAtBest = lateAt.get(search.bestRate) ?? Number.NaN;
      const lateAbove = failAbove === undefined ? Number.NaN : (lateAt.get(failAbove.rate) ?? Number.NaN);
      at.slaProbes = search.probes.map((p) => ({ ...p, lateP99Ns: lateAt.get(p.rate) }));
      summary[t.key] = at;
      results.push({ name: `${t.label}: highest rate with p99 < ${SLA_NS / 1000} µs${lateAbove > LATE_LIMIT_NS ? ' [generator-limited above]' : ''}`, medianNs: NaN, opsPerSec: search.bestRate, lateP99Ns: lateAtBest, lateP99NsAbove: lateAbove, probes: search.probes.length });
      series.push({ name: t.label, points });
    }
    // Item 6: the library OS on a 1-core vs a 2-core node, at the same offered loads.
    if (SERVERS.has('cores')) await coresPart(measure, results, ratios, summary, notes, start);
    const mc = best.get('memcached');
    for (const [k, v] of best) if (k !== 'memcached' && mc !== undefined && mc > 0) ratios[`${k}/memcached_t1 rate at p99 < ${SLA_NS / 1000} µs`] = v / mc;
    const naive = best.get('naive');
    if (naive && best.has('hosted')) ratios[`hosted/naive rate at p99 < ${SLA_NS / 1000} µs`] = best.get('hosted')! / naive;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    removeTmp();
  }
  if (series.length > 0) {
    const file = writeDocsFigure(
      'memcached-p99-vs-load.svg',
      lineChart(series, {
        title: `memcached p99 latency vs offered load (open loop, ${CONNECTIONS} conns, ${VALUE} B values, 9:1)`,
        xLabel: 'offered load (requests/s)',
        yLabel: 'p99 latency (µs, log)',
        yLog10: true,
        hLines: [{ y: SLA_NS / 1000, label: `SLA ${SLA_NS / 1000} µs` }],
        width: 900,
      }),
    );
    notes.push(`figure: ${file}`);
  }
  ratios['generator-limited open-loop probes (lateness p99 > SLA/5) / all'] = probes > 0 ? generatorLimited / probes : 0;
  notes.push(
    `open-loop generator (@ebbrt/bench-kit/loadgen) in the bench process, paced by a sleeping thread (a spin of the last 60-200 µs before a send, at most 30 % of the time), ${rt.why}; servers ${SERVER_RT > 0 ? `SCHED_FIFO ${SERVER_RT}` : 'normal scheduling'}; latency from the intended send time, so the generator's own lateness counts in it and is printed beside every p99 (late p99); ${generatorLimited} of ${probes} open-loop probes had lateness p99 over ${LATE_LIMIT_NS / 1000} µs (SLA/5: generator-limited); ${SECONDS} s per point after 0.2 s warm-up; peak = closed loop, one request in flight per connection`,
  );
  notes.push(`uptime at end: ${await uptime()}`);
  return { name: 'sla: p99 at offered load, highest rate under the SLA', results, ratios, notes, ...{ summary } };
}

/**
 * memcached on a 1-core and a 2-core library-OS node (connections spread by RSS, each core
 * serving its own), reached the same way (TAP when possible, else the port forward), each with
 * its own closed-loop peak and then the same offered loads (fractions of the 2-core peak).
 * Started one at a time so the two never share the machine.
 */
async function coresPart(
  measure: (t: Target, mode: LoadMode) => Promise<TcpLoadResult>,
  results: BenchResult[],
  ratios: Record<string, number>,
  summary: Record<string, unknown>,
  notes: string[],
  start: <S extends ServerProcess>(what: string, f: () => Promise<S>) => Promise<S | undefined>,
): Promise<void> {
  const why = await tapReason(CORES_TAP);
  const out: Record<string, unknown> = {};
  let rates: number[] | undefined;
  const peaks = new Map<number, number>();
  const p99s = new Map<string, number>();
  for (const cores of [2, 1]) {
    const s = await start(`library OS, ${cores} core(s)`, () =>
      startLibos({ memory: '256MiB', forward: why !== undefined, ...(why === undefined ? { tap: { name: CORES_TAP, subnet: CORES_SUBNET } } : {}), cores, label: `libos-${cores}c` }),
    );
    const endpoint = s === undefined ? undefined : (s as { tap?: Endpoint; forward?: Endpoint }).tap ?? (s as { forward?: Endpoint }).forward;
    if (s === undefined || endpoint === undefined) continue;
    const t: Target = { key: `libos-${cores}c`, label: `library OS, ${cores} core${cores > 1 ? 's' : ''} (${why === undefined ? 'TAP' : 'port forward'})`, endpoint };
    try {
      const peak = (await measure(t, { kind: 'closed' })).achievedOpsPerSec;
      peaks.set(cores, peak);
      results.push({ name: `${t.label}: peak (closed loop)`, medianNs: NaN, opsPerSec: peak });
      rates ??= [0.25, 0.5, 0.75].map((f) => f * peak);
      const row: Record<string, unknown> = { peak };
      for (const rate of rates) {
        const r = await measure(t, { kind: 'open', rate });
        results.push({ name: `${t.label} @ ${Math.round(rate)}/s${lateMark(r)}`, medianNs: r.p50Ns, p99Ns: r.p99Ns, p999Ns: r.p999Ns, lateP99Ns: r.lateness.p99Ns, uncorrectedP99Ns: r.uncorrected.p99Ns, opsPerSec: r.achievedOpsPerSec, offered: rate });
        row[String(Math.round(rate))] = { achieved: r.achievedOpsPerSec, p50Ns: r.p50Ns, p99Ns: r.p99Ns, lateP99Ns: r.lateness.p99Ns };
        p99s.set(`${cores}:${Math.round(rate)}`, r.p99Ns);
      }
      out[`${cores}`] = row;
    } finally {
      await s.stop();
    }
    // socat owns the TAP: wait until it is gone before the next node wants the same name.
    for (let i = 0; i < 100 && (await runCommand('ip', ['link', 'show', CORES_TAP])).code === 0; i++) await new Promise((r) => setTimeout(r, 50));
  }
  const p1 = peaks.get(1);
  const p2 = peaks.get(2);
  if (p1 && p2) ratios['libos 2 cores / 1 core peak ops/s'] = p2 / p1;
  for (const rate of rates ?? []) {
    const a = p99s.get(`2:${Math.round(rate)}`);
    const b = p99s.get(`1:${Math.round(rate)}`);
    if (a && b) ratios[`libos p99 2 cores / 1 core @ ${Math.round(rate)}/s`] = a / b;
  }
  summary.cores = out;
  notes.push('cores: both nodes run in one node process (one JS thread runs every simulated core), so a second simulated core adds no host CPU; what it changes is how connections are spread (RSS) and served');
}
