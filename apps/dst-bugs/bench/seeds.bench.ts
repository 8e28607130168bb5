/**
 * Seeds per second of `ebbrt test` on the counter (this app, bugs off, every fault on) with 1
 * and 2 worker processes, side by side. Each pool is warmed with four seeds per worker first
 * (module loading is not seed throughput).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '@ebbrt/bench-kit';
import { search, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDS = 40;

async function seedsPerSecond(workers: number): Promise<number> {
  const pool = new WorkerPool(workers);
  try {
    await search(pool, { appDir: APP, first: 100_000, last: 100_000 + 4 * workers - 1, budgetMs: undefined, swarm: false, shrink: false });
    const report = await search(pool, { appDir: APP, first: 1, last: SEEDS, budgetMs: undefined, swarm: false, shrink: false });
    if (report.failures.length > 0) throw new Error(`the fixed counter failed seed ${report.failures[0]!.result.seed}: ${report.failures[0]!.result.violation}`);
    return report.seedsRun / (report.elapsedMs / 1000);
  } finally {
    pool.close();
  }
}

export default async function run(): Promise<BenchReport> {
  const one = await seedsPerSecond(1);
  const two = await seedsPerSecond(2);
  const result = (name: string, rate: number) => ({ name, medianNs: 1e9 / rate, opsPerSec: rate, seedsPerSec: rate });
  return {
    name: 'ebbrt test: counter seeds/s, 1 vs 2 workers',
    results: [result('1 worker', one), result('2 workers', two)],
    ratios: { '2 workers / 1 worker': two / one },
    notes: [`${SEEDS} seeds each, all link faults on; the target on 2 cores is >= 1.7x (shared machine: other load lowers it)`],
  };
}
