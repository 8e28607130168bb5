/**
 * A worker that dies mid-seed (an unhandled rejection, a process exit) does not end the search:
 * that seed is recorded as failing with the cause, a new worker takes the dead one's place, and
 * every other seed still runs and passes.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { search, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('crashing workers', () => {
  it('records the crashed seeds with their cause, respawns, and runs every seed', async () => {
    const report = await search(pool, { appDir: APP, invariantsFile: 'test/fixtures/crashing.invariants.ts', first: 1, last: 8, budgetMs: undefined, swarm: false, shrink: true });
    expect(report.seedsRun).toBe(8);
    const failed = report.failures.map((f) => [f.result.seed, f.result.crashed]);
    expect(failed.map(([s]) => s)).toEqual([3, 5]);
    expect(failed[0]![1]).toMatch(/unhandled rejection: Error: planted rejection on seed 3/);
    expect(failed[1]![1]).toBe('exited with code 9');
    for (const f of report.failures) {
      expect(f.result.violation).toMatch(/^the worker crashed: /);
      expect(f.shrunk).toBeUndefined();
    }
    expect(pool.respawned).toBe(2);
    // The respawned workers serve further seeds.
    const again = await search(pool, { appDir: APP, invariantsFile: 'test/fixtures/crashing.invariants.ts', first: 6, last: 9, budgetMs: undefined, swarm: false, shrink: false });
    expect(again.seedsRun).toBe(4);
    expect(again.failures).toEqual([]);
  }, 600_000);
});
