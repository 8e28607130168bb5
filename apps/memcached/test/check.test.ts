/**
 * memcached under `ebbrt test`: the checker (check/) passes the real store over swarmed faults,
 * catches each planted store bug (the first violated invariant is the model's), shrinks it, and
 * the replay of the shrunk seed gives the same trace digest.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { search, SeedRunner, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('memcached under ebbrt test', () => {
  it('the real store holds every invariant over swarmed faults', async () => {
    const report = await search(pool, { appDir: APP, first: 1, last: 8, budgetMs: undefined, swarm: true, shrink: false });
    expect(report.seedsRun).toBe(8);
    expect(report.failures.map((f) => `${f.result.seed} [${f.result.faults.join(',')}]: ${f.result.violation}`)).toEqual([]);
  }, 600_000);

  for (const [bug, invariant] of [
    ['cas-ignored', /^every reply matches the model of the store: .*cas k\d-\d .*expected EXISTS, got "STORED"/],
    ['lost-delete', /^every reply matches the model of the store: .*expected (NOT_FOUND|NOT_STORED|values|keys)/],
  ] as const) {
    it(`catches the planted store bug ${bug}, shrinks it and replays it byte for byte`, async () => {
      const configFile = `ebbrt.${bug}.config.ts`;
      const report = await search(pool, { appDir: APP, configFile, first: 1, last: 50, budgetMs: undefined, swarm: true, shrink: true, maxFailures: 1 });
      expect(report.failures.length).toBeGreaterThan(0);
      const f = report.failures[0]!;
      expect(f.result.violation).toMatch(invariant);
      // The bug is in the store, not the faults: shrinking turns every fault off.
      expect(f.shrunk?.faults).toEqual([]);
      const replay = await new SeedRunner().run({ appDir: APP, configFile, seed: f.result.seed, faults: { kind: 'exact', faults: [] } });
      expect(replay.digest).toBe(f.shrunk!.digest);
      expect(replay.violation).toBe(f.shrunk!.violation);
    }, 600_000);
  }

  it('the same seed and faults give the same trace; a fault changes it', async () => {
    const runner = new SeedRunner();
    const a = await runner.run({ appDir: APP, seed: 5, faults: { kind: 'exact', faults: ['link.loss', 'nic.rxNoBuffer'] } });
    const b = await runner.run({ appDir: APP, seed: 5, faults: { kind: 'exact', faults: ['link.loss', 'nic.rxNoBuffer'] } });
    const c = await runner.run({ appDir: APP, seed: 5, faults: { kind: 'exact', faults: ['link.loss'] } });
    expect(a.violation).toBeUndefined();
    expect(b.digest).toBe(a.digest);
    expect(c.digest).not.toBe(a.digest);
  }, 600_000);
});
