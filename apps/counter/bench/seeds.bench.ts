/**
 * `pnpm bench seeds`: seeds per second of `ebbrt test` on the distributed counter (apps/counter,
 * every fault on, bugs off) with 1 and 2 worker processes, side by side in one run, with the
 * workers in the caller's session and in sessions of their own (see WorkerPoolOptions.ownSessions).
 *
 * Beside them, in the same rounds, the bare ceiling (ceiling.ts): the same kind of worker
 * processes running a fixed CPU-bound loop, 1 vs 2. On a shared machine two processes rarely get
 * two cores, so the counter's 2/1 ratio is read against the ceiling's (the "ratio of ratios": 1.0
 * means the runner scales as well as the machine lets any two processes scale).
 *
 * The setups take turns, round after round, so a change in the machine's load hits all alike;
 * each figure is the median of its rounds. Every pool is started and warmed first (module loading
 * and compilation are not seed throughput). The in-process runner (no worker, no IPC) is the
 * baseline a worker's overhead is measured against. The load average is in the notes.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '@ebbrt/bench-kit';
import { search, SeedRunner, WorkerPool } from '@ebbrt/runtime';
import { CeilingPool } from './ceiling.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDS = Number(process.env.SEEDS_BENCH_SEEDS ?? 40);
const ROUNDS = Number(process.env.SEEDS_BENCH_ROUNDS ?? 3);
/** Ceiling jobs a round (each ~10 ms of CPU on an idle core). */
const LOOPS = 100;

async function round(pool: WorkerPool): Promise<number> {
  const report = await search(pool, { appDir: APP, first: 1, last: SEEDS, budgetMs: undefined, swarm: false, shrink: false });
  if (report.failures.length > 0) throw new Error(`the counter failed seed ${report.failures[0]!.result.seed}: ${report.failures[0]!.result.violation}`);
  return report.seedsRun / (report.elapsedMs / 1000);
}

async function inProcess(): Promise<number> {
  const runner = new SeedRunner();
  const started = performance.now();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = await runner.run({ appDir: APP, seed, faults: { kind: 'all' }, trace: false });
    if (r.violation !== undefined) throw new Error(`the counter failed seed ${seed}: ${r.violation}`);
  }
  return SEEDS / ((performance.now() - started) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Setup = '1 worker' | '2 workers' | '1 worker, own session' | '2 workers, own sessions' | 'ceiling: 1 worker' | 'ceiling: 2 workers' | 'ceiling: 1 worker, own session' | 'ceiling: 2 workers, own sessions';
type Pool = { kind: 'seeds'; pool: WorkerPool } | { kind: 'ceiling'; pool: CeilingPool };
const SETUPS: Record<Setup, () => Pool> = {
  '1 worker': () => ({ kind: 'seeds', pool: new WorkerPool(1) }),
  '2 workers': () => ({ kind: 'seeds', pool: new WorkerPool(2) }),
  '1 worker, own session': () => ({ kind: 'seeds', pool: new WorkerPool(1, { ownSessions: true }) }),
  '2 workers, own sessions': () => ({ kind: 'seeds', pool: new WorkerPool(2, { ownSessions: true }) }),
  'ceiling: 1 worker': () => ({ kind: 'ceiling', pool: new CeilingPool(1) }),
  'ceiling: 2 workers': () => ({ kind: 'ceiling', pool: new CeilingPool(2) }),
  'ceiling: 1 worker, own session': () => ({ kind: 'ceiling', pool: new CeilingPool(1, true) }),
  'ceiling: 2 workers, own sessions': () => ({ kind: 'ceiling', pool: new CeilingPool(2, true) }),
};

const measure = (p: Pool): Promise<number> => (p.kind === 'seeds' ? round(p.pool) : p.pool.rate(LOOPS));

export default async function run(): Promise<BenchReport> {
  const loads = [loadavg()[0]!];
  const names = Object.keys(SETUPS) as Setup[];
  const pools = new Map(names.map((n) => [n, SETUPS[n]()]));
  const rates = new Map<Setup, number[]>(names.map((n) => [n, []]));
  try {
    for (const p of pools.values()) {
      if (p.kind === 'seeds') await search(p.pool, { appDir: APP, first: 100_000, last: 100_000 + 4 * p.pool.size - 1, budgetMs: undefined, swarm: false, shrink: false });
      else await p.pool.rate(4 * p.pool.size);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of names) rates.get(n)!.push(await measure(pools.get(n)!));
      loads.push(loadavg()[0]!);
    }
  } finally {
    for (const p of pools.values()) p.pool.close();
  }
  await inProcess(); // warm this process's modules too
  const local = await inProcess();
  loads.push(loadavg()[0]!);
  const m = (n: Setup): number => median(rates.get(n)!);
  const result = (name: string, rate: number, all?: number[]) => ({ name, medianNs: 1e9 / rate, opsPerSec: rate, ...(name.startsWith('ceiling') ? {} : { seedsPerSec: rate }), ...(all ? { rounds: all.map((x) => Number(x.toFixed(2))) } : {}) });
  const counter = m('2 workers') / m('1 worker');
  const ceiling = m('ceiling: 2 workers') / m('ceiling: 1 worker');
  const counterOwn = m('2 workers, own sessions') / m('1 worker, own session');
  const ceilingOwn = m('ceiling: 2 workers, own sessions') / m('ceiling: 1 worker, own session');
  return {
    name: 'ebbrt test: distributed counter seeds/s, 1 vs 2 workers, against the bare 2-process ceiling',
    results: [result('in-process (no worker)', local), ...names.map((n) => result(n, m(n), rates.get(n)))],
    ratios: {
      '2 workers / 1 worker': counter,
      '2 workers / 1 worker, own sessions': counterOwn,
      'ceiling: 2 workers / 1 worker': ceiling,
      'ceiling: 2 workers / 1 worker, own sessions': ceilingOwn,
      'counter ratio / ceiling ratio': counter / ceiling,
      'counter ratio / ceiling ratio, own sessions': counterOwn / ceilingOwn,
      '1 worker / in-process': m('1 worker') / local,
    },
    notes: [
      `${SEEDS} seeds a round, every fault on; ceiling (its rates are loops/s, not seeds/s): ${LOOPS} CPU-bound loops a round; median of ${ROUNDS} rounds (the setups take turns); target on 2 cores: 2 workers / 1 worker >= 1.7`,
      `load average (1 min) at the start and after each round: ${loads.map((l) => l.toFixed(1)).join(', ')}, on ${cpus().length} cores shared with other work: the ceiling ratio is what two processes got from them meanwhile`,
      `Linux autogroup (sched_autogroup_enabled=${autogroup()}) shares the CPU between sessions: under other sessions' load, workers in one session share its slice ("own sessions" gives each worker its own)`,
    ],
  };
}

function autogroup(): string {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
