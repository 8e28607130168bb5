/**
 * `pnpm bench seeds`: seeds per second of `ebbrt test` on the distributed counter (apps/counter,
 * every fault on, bugs off) with 1 and 2 worker processes, side by side in one run, with the
 * workers in the caller's session and in sessions of their own (see WorkerPoolOptions.ownSessions).
 * The setups take turns, round after round, so a change in the (shared) machine's load hits all
 * alike; each figure is the median of its 3 rounds. Both pools are started and warmed first (module loading
 * and compilation are not seed throughput). The in-process runner (no worker, no IPC) is the
 * baseline a worker's overhead is measured against. The load average is in the notes: on a
 * machine whose 2 cores are busy with other work, 2 workers cannot reach 2x.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '@ebbrt/bench-kit';
import { search, SeedRunner, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDS = Number(process.env.SEEDS_BENCH_SEEDS ?? 40);
const ROUNDS = 3;

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

type Setup = '1 worker' | '2 workers' | '1 worker, own session' | '2 workers, own sessions';
const SETUPS: Record<Setup, { workers: number; ownSessions: boolean }> = {
  '1 worker': { workers: 1, ownSessions: false },
  '2 workers': { workers: 2, ownSessions: false },
  '1 worker, own session': { workers: 1, ownSessions: true },
  '2 workers, own sessions': { workers: 2, ownSessions: true },
};

export default async function run(): Promise<BenchReport> {
  const loadBefore = loadavg()[0]!;
  const names = Object.keys(SETUPS) as Setup[];
  const pools = new Map(names.map((n) => [n, new WorkerPool(SETUPS[n].workers, { ownSessions: SETUPS[n].ownSessions })]));
  const rates = new Map<Setup, number[]>(names.map((n) => [n, []]));
  try {
    for (const [n, pool] of pools) await search(pool, { appDir: APP, first: 100_000, last: 100_000 + 4 * SETUPS[n].workers - 1, budgetMs: undefined, swarm: false, shrink: false });
    for (let r = 0; r < ROUNDS; r++) for (const n of names) rates.get(n)!.push(await round(pools.get(n)!));
  } finally {
    for (const pool of pools.values()) pool.close();
  }
  await inProcess(); // warm this process's modules too
  const local = await inProcess();
  const loadAfter = loadavg()[0]!;
  const m = (n: Setup): number => median(rates.get(n)!);
  const result = (name: string, rate: number, all?: number[]) => ({ name, medianNs: 1e9 / rate, opsPerSec: rate, seedsPerSec: rate, ...(all ? { rounds: all.map((x) => Number(x.toFixed(2))) } : {}) });
  return {
    name: 'ebbrt test: distributed counter seeds/s, 1 vs 2 workers',
    results: [result('in-process (no worker)', local), ...names.map((n) => result(n, m(n), rates.get(n)))],
    ratios: {
      '2 workers / 1 worker': m('2 workers') / m('1 worker'),
      '2 workers / 1 worker, own sessions': m('2 workers, own sessions') / m('1 worker, own session'),
      '1 worker / in-process': m('1 worker') / local,
    },
    notes: [
      `${SEEDS} seeds a round, every fault on, median of ${ROUNDS} rounds (the setups take turns); target on 2 cores: 2 workers / 1 worker >= 1.7`,
      `load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${cpus().length} cores shared with other work`,
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
