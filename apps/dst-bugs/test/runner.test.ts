/**
 * `ebbrt test` finds each planted bug: a seed search (swarmed link faults, 2 worker processes)
 * finds a failing seed, shrinks its faults, and replaying that seed with the shrunk faults in
 * this process gives the same trace digest and the same violated invariant. The fixed app
 * passes the same seeds.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { search, SeedRunner, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const pool = new WorkerPool(2);
afterAll(() => pool.close());

describe('the seed runner on the planted bugs', () => {
  for (const bug of ['retry', 'stale-read', 'late-timeout'] as const) {
    it(`finds, shrinks and replays bug ${bug}`, async () => {
      const report = await search(pool, { appDir: APP, configFile: `ebbrt.${bug}.config.ts`, first: 1, last: 1000, budgetMs: undefined, swarm: true, shrink: true, maxFailures: 1 });
      expect(report.failures.length).toBeGreaterThan(0);
      const f = report.failures[0]!;
      expect(f.shrunk).toBeDefined();
      expect(f.shrunk!.faults.length).toBeLessThanOrEqual(f.result.faults.length);
      const replay = await new SeedRunner().run({ appDir: APP, configFile: `ebbrt.${bug}.config.ts`, seed: f.result.seed, faults: { kind: 'exact', faults: f.shrunk!.faults } });
      expect(replay.digest).toBe(f.shrunk!.digest);
      expect(replay.violation).toBe(f.shrunk!.violation);
    }, 600_000);
  }

  it('the fixed app holds its invariants over the same faults', async () => {
    const report = await search(pool, { appDir: APP, first: 1, last: 6, budgetMs: undefined, swarm: false, shrink: false });
    expect(report.seedsRun).toBe(6);
    expect(report.failures.map((f) => `${f.result.seed}: ${f.result.violation}`)).toEqual([]);
  }, 600_000);

  it('the same seed and faults give the same digest; other faults give another', async () => {
    const runner = new SeedRunner();
    const a = await runner.run({ appDir: APP, seed: 3, faults: { kind: 'exact', faults: ['link.loss'] } });
    const b = await runner.run({ appDir: APP, seed: 3, faults: { kind: 'exact', faults: ['link.loss'] } });
    const c = await runner.run({ appDir: APP, seed: 3, faults: { kind: 'exact', faults: [] } });
    expect(b.digest).toBe(a.digest);
    expect(c.digest).not.toBe(a.digest);
  }, 600_000);
});

describe('the ebbrt test command', () => {
  it('prints a failing seed, its faults, the violation and a replay command whose digest matches', async () => {
    const { testCommand } = await import('@ebbrt/runtime');
    const capture = (): { out: NodeJS.WriteStream; text: () => string } => {
      let text = '';
      const out = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
      return { out, text: () => text };
    };
    const search = capture();
    expect(await testCommand([APP, '--config', 'ebbrt.retry.config.ts', '--seeds', '1..50', '--swarm', '--max-failures', '1', '--workers', '1'], search.out)).toBe(1);
    const report = search.text();
    expect(report).toMatch(/FAIL seed \d+/);
    expect(report).toMatch(/faults on: +link\./);
    expect(report).toMatch(/violated: +every add is applied exactly once/);
    const replayLine = /replay: +ebbrt test (.*)/.exec(report)![1]!;
    const digest = /digest: +([0-9a-f]{64})/.exec(report)![1];
    const replay = capture();
    expect(await testCommand(replayLine.split(' '), replay.out)).toBe(1);
    expect(replay.text()).toContain(`digest ${digest}`);
  }, 600_000);
});
