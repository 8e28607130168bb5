import { describe, expect, it } from 'vitest';
import { search, type SeedJob, type SeedResult } from '../src/index.js';
import { formatReport, parseTest } from '../src/cli/test-command.js';

/** An executor whose seeds fail when `fails(seed)`; it answers after a few task turns, out of order. */
function fakePool(fails: (seed: number) => boolean, concurrency: number) {
  const jobs: SeedJob[] = [];
  return {
    jobs,
    size: 2,
    concurrency,
    async run(job: SeedJob): Promise<SeedResult> {
      jobs.push(job);
      for (let i = 0; i < (job.seed * 7) % 5; i++) await new Promise((r) => setImmediate(r));
      const violation = fails(job.seed) ? 'x: broke' : undefined;
      // Seed s fires link.loss s times; even seeds also fire one offload refusal.
      const fired: Record<string, number> = { 'link.loss': job.seed, ...(job.seed % 2 === 0 ? { 'offload.globalIdMap.fail': 1 } : {}) };
      return { seed: job.seed, faults: [], digest: `d${job.seed}`, violation, ms: 1, fired };
    },
  };
}

describe('search', () => {
  it('--max-failures N reports the N lowest failing seeds, though more lanes were running', async () => {
    const pool = fakePool(() => true, 4);
    const report = await search(pool, { appDir: '.', first: 10, last: 100, budgetMs: undefined, swarm: false, shrink: false, maxFailures: 1 });
    expect(report.failures.map((f) => f.result.seed)).toEqual([10]);
    expect(report.seedsRun).toBeGreaterThanOrEqual(1);
    expect(report.seedsRun).toBeLessThanOrEqual(4);
  });

  it('runs seeds untraced and re-runs only a failing one traced, with the faults it had', async () => {
    const pool = fakePool((s) => s === 3, 2);
    const report = await search(pool, { appDir: '.', first: 1, last: 5, budgetMs: undefined, swarm: true, shrink: false });
    expect(report.seedsRun).toBe(5);
    expect(report.failures.map((f) => f.result.seed)).toEqual([3]);
    const traced = pool.jobs.filter((j) => j.trace !== false);
    expect(traced).toEqual([expect.objectContaining({ seed: 3, faults: { kind: 'exact', faults: [] } })]);
    expect(pool.jobs.filter((j) => j.trace === false).map((j) => j.seed).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('totals the faults that fired over the seeds run (not the re-runs or shrinks), sorted by kind, and the summary prints them', async () => {
    const pool = fakePool((s) => s === 4, 3);
    const report = await search(pool, { appDir: '.', first: 1, last: 6, budgetMs: undefined, swarm: true, shrink: true });
    expect(pool.jobs.length).toBeGreaterThan(6); // seed 4 ran again traced
    expect(report.fired).toEqual({ 'link.loss': { count: 21, seeds: 6 }, 'offload.globalIdMap.fail': { count: 3, seeds: 3 } });
    expect(Object.keys(report.fired)).toEqual(['link.loss', 'offload.globalIdMap.fail']);
    const text = formatReport(parseTest(['apps/x', '--seeds', '1..6', '--swarm']), report);
    expect(text.split('\n')[1]).toBe('  faults fired: link.loss 21 (6 seeds), offload.globalIdMap.fail 3 (3 seeds)');
    const none = formatReport(parseTest(['apps/x', '--seeds', '1..6']), { ...report, fired: {} });
    expect(none.split('\n')[1]).toBe('  faults fired: none');
  });
});
