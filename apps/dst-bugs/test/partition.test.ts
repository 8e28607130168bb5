/**
 * The "counter read during a partition" bug, on a real partition (issue 18 item 3): the switch
 * cuts the server (node 2) off for 600..800 ms while the client is adding. The fixed client's
 * reads wait it out; the `stale-read` client answers a read the server has not answered for
 * 500 ms from its cache. The runner finds it in swarm mode, shrinks it to the partition alone
 * (also from every fault on), the link faults alone never trigger it, and the printed replay
 * command gives the same digest and writes the same trace byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { search, SeedRunner, testCommand, WorkerPool } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const STALE = 'ebbrt.stale-read.config.ts';
const pool = new WorkerPool(2);
const tmp = mkdtempSync(join(tmpdir(), 'dst-bugs-partition-'));
afterAll(async () => {
  await pool.close();
  rmSync(tmp, { recursive: true, force: true });
});

const capture = (): { out: NodeJS.WriteStream; text: () => string } => {
  let text = '';
  const out = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => text };
};

describe('a counter read during a partition', () => {
  it('swarm search finds it within 1,000 seeds and shrinks it to network.partition alone', async () => {
    const report = await search(pool, { appDir: APP, configFile: STALE, first: 1, last: 1000, budgetMs: undefined, swarm: true, shrink: true, maxFailures: 1 });
    const f = report.failures[0];
    expect(f, 'no failing seed in 1..1000').toBeDefined();
    expect(f!.result.faults).toContain('network.partition');
    expect(f!.result.violation).toMatch(/^reads see every acked add: stale read: \d+ after the adds acked summed to \d+$/);
    expect(f!.shrunk?.faults).toEqual(['network.partition']);
  }, 600_000);

  it('with every fault on, shrinking drops the link faults and keeps the partition', async () => {
    const report = await search(pool, { appDir: APP, configFile: STALE, first: 1, last: 20, budgetMs: undefined, swarm: false, shrink: true, maxFailures: 1 });
    const f = report.failures[0]!;
    expect(f.result.faults).toEqual(['link.loss', 'link.duplicate', 'link.reorder', 'network.partition']);
    expect(f.shrunk?.faults).toEqual(['network.partition']);
    expect(f.shrunk?.violation).toMatch(/stale read/);
  }, 600_000);

  it('needs the partition: with only the link faults no seed reads stale; the fixed client holds through the partition', async () => {
    const runner = new SeedRunner();
    for (let seed = 1; seed <= 6; seed++) {
      const linkOnly = await runner.run({ appDir: APP, configFile: STALE, seed, faults: { kind: 'exact', faults: ['link.loss', 'link.duplicate', 'link.reorder'] } });
      expect(linkOnly.violation, `seed ${seed}, link faults only`).toBeUndefined();
      const partitioned = await runner.run({ appDir: APP, configFile: STALE, seed, faults: { kind: 'exact', faults: ['network.partition'] } });
      expect(partitioned.violation, `seed ${seed}, partition only`).toMatch(/stale read/);
    }
    const fixed = await search(pool, { appDir: APP, configFile: 'ebbrt.partition.config.ts', first: 1, last: 6, budgetMs: undefined, swarm: false, shrink: false });
    expect(fixed.seedsRun).toBe(6);
    expect(fixed.failures.map((f) => `${f.result.seed}: ${f.result.violation}`)).toEqual([]);
  }, 600_000);

  it('the printed replay command reproduces the failure and its trace byte for byte', async () => {
    const found = capture();
    expect(await testCommand([APP, '--config', STALE, '--seeds', '1..1000', '--swarm', '--max-failures', '1', '--workers', '1'], found.out)).toBe(1);
    const report = found.text();
    expect(report).toMatch(/violated: +reads see every acked add: stale read/);
    const replayLine = /replay: +ebbrt test (.*)/.exec(report)![1]!;
    expect(replayLine).toMatch(/--faults network\.partition\b/);
    const digest = /digest: +([0-9a-f]{64})/.exec(report)![1];
    const traces = [join(tmp, 'a.json'), join(tmp, 'b.json')];
    for (const trace of traces) {
      const replay = capture();
      expect(await testCommand([...replayLine.split(' '), '--trace', trace], replay.out)).toBe(1);
      expect(replay.text()).toContain(`digest ${digest}`);
      expect(replay.text()).toMatch(/stale read/);
    }
    const [a, b] = traces.map((t) => readFileSync(t));
    expect(a!.length).toBeGreaterThan(0);
    expect(a!.equals(b!)).toBe(true);
    expect(a!.toString()).toContain('"name":"fault: network.partition"');
  }, 600_000);
});
