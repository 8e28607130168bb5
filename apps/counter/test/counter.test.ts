/**
 * The distributed counter under `ebbrt test`: the real counter holds its invariants over swarmed
 * faults; a planted lost update is found, shrunk and replayed byte for byte; and the invariants
 * themselves reject each way a run can be wrong.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { search, SeedRunner, WorkerPool, type InvariantContext } from '@ebbrt/runtime';
import fc from 'fast-check';
import { invariants } from '../ebbrt.invariants.js';
import { journalSum } from '../src/journal.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const pool = new WorkerPool(2);
afterAll(() => pool.close());

/**
 * A planted bug's whole path under `ebbrt test`: swarm seeds 1..last until one fails, shrink its
 * faults, and replay the shrunk seed in a fresh runner, which must give the same digest and the
 * same violation. Returns the failure (with its shrunk faults) and the runner that replayed it.
 */
async function findShrinkAndReplay(configFile: string, last: number) {
  const report = await search(pool, { appDir: APP, configFile, first: 1, last, budgetMs: undefined, swarm: true, shrink: true, maxFailures: 1 });
  expect(report.failures.length, `no seed of 1..${last} failed under ${configFile}`).toBeGreaterThan(0);
  const failure = report.failures[0]!;
  expect(failure.shrunk).toBeDefined();
  const runner = new SeedRunner();
  const replay = await runner.run({ appDir: APP, configFile, seed: failure.result.seed, faults: { kind: 'exact', faults: failure.shrunk!.faults } });
  expect(replay.digest).toBe(failure.shrunk!.digest);
  expect(replay.violation).toBe(failure.shrunk!.violation);
  return { failure, runner };
}

describe('the distributed counter under ebbrt test', () => {
  it('holds every invariant over swarmed faults', async () => {
    const report = await search(pool, { appDir: APP, first: 1, last: 8, budgetMs: undefined, swarm: true, shrink: false });
    expect(report.seedsRun).toBe(8);
    expect(report.failures.map((f) => `${f.result.seed} [${f.result.faults.join(',')}]: ${f.result.violation}`)).toEqual([]);
    // The checkpoints' front-end requests were refused and delayed, and nothing was lost.
    expect(report.fired['offload.globalIdMap.fail']?.count).toBeGreaterThan(0);
    expect(report.fired['offload.globalIdMap.delay']?.count).toBeGreaterThan(0);
    // So were the journal's file requests (each seed has its own files), and no journal lost an add.
    expect(report.fired['offload.fileSystem.fail']?.count).toBeGreaterThan(0);
    expect(report.fired['offload.fileSystem.delay']?.count).toBeGreaterThan(0);
  }, 600_000);

  it('finds the planted lost journal (a failed append acked anyway), shrinks it to the FileSystem fail fault, and replays it with the fault in the trace and --stats', async () => {
    const configFile = 'ebbrt.lost-journal.config.ts';
    const report = await search(pool, { appDir: APP, configFile, first: 1, last: 200, budgetMs: undefined, swarm: true, shrink: true, maxFailures: 1 });
    expect(report.failures.length).toBeGreaterThan(0);
    const f = report.failures[0]!;
    expect(f.result.violation).toMatch(/^each node's journal file holds every acked add, once .*: node \d's journal holds \d+ adds summing to \d+, the driver's 30 acked adds to it sum to \d+$/);
    expect(f.shrunk?.faults).toEqual(['offload.fileSystem.fail']);
    const replay = await new SeedRunner().run({ appDir: APP, configFile, seed: f.result.seed, faults: { kind: 'exact', faults: f.shrunk!.faults }, keepTrace: true, stats: true });
    expect(replay.digest).toBe(f.shrunk!.digest);
    expect(replay.violation).toBe(f.shrunk!.violation);
    // Every refused append is one counted fault, one trace instant and one --stats count.
    const fails = replay.fired?.['offload.fileSystem.fail'] ?? 0;
    expect(fails).toBeGreaterThan(0);
    const instants = (JSON.parse(replay.trace!) as { traceEvents: { ph: string; name: string }[] }).traceEvents.filter((e) => e.ph === 'i' && e.name === 'fault: offload.fileSystem.fail');
    expect(instants).toHaveLength(fails);
    expect(replay.stats).toContain(`ebbrt: faults: offload.fileSystem.fail ${fails}`);
    // The same seed with the fault off holds, and so does the real journal with it on.
    const noFault = await new SeedRunner().run({ appDir: APP, configFile, seed: f.result.seed, faults: { kind: 'exact', faults: [] } });
    expect(noFault.violation).toBeUndefined();
    const real = await new SeedRunner().run({ appDir: APP, seed: f.result.seed, faults: { kind: 'exact', faults: ['offload.fileSystem.fail'] } });
    expect(real.violation).toBeUndefined();
    expect(real.fired?.['offload.fileSystem.fail']).toBeGreaterThan(0);
  }, 600_000);

  it('finds the planted stale checkpoint (a set per add, none waiting for the last), shrinks it to the offload delay and replays it', async () => {
    const configFile = 'ebbrt.stale-checkpoint.config.ts';
    const { failure: f, runner } = await findShrinkAndReplay(configFile, 200);
    expect(f.result.violation).toMatch(/^each node's checkpoint in the GlobalIdMap is its total .*: node \d's checkpoints sum to \d+, the driver's acked adds to it sum to \d+$/);
    expect(f.shrunk!.faults).toEqual(['offload.globalIdMap.delay']);
    // The same seed with the delay off holds: the concurrent sets are only wrong when one is late.
    const noDelay = await runner.run({ appDir: APP, configFile, seed: f.result.seed, faults: { kind: 'exact', faults: [] } });
    expect(noDelay.violation).toBeUndefined();
  }, 600_000);

  it('finds the planted lost update, shrinks it and replays it byte for byte', async () => {
    const { failure: f } = await findShrinkAndReplay('ebbrt.lost-update.config.ts', 100);
    expect(f.result.violation).toMatch(/^each node total is exactly its acked adds \(no lost update\): node \d holds \d+, the driver's acked adds to it sum to \d+/);
  }, 600_000);
});

describe('a device reset whose configuration interrupt was lost (nic.configInterruptLoss)', () => {
  it("is found by the driver's status poll on its background watchdog, so the counter holds and the run still ends; with the poll off those seeds never go quiet", async () => {
    const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
    const results = await Promise.all(seeds.map((seed) => pool.run({ appDir: APP, seed, faults: { kind: 'swarm' }, trace: false })));
    expect(results.map((r) => `${r.seed}: ${r.violation ?? r.crashed}`).filter((v) => !v.endsWith('undefined'))).toEqual([]);
    const lost = results.filter((r) => (r.fired?.['virtio-net.config-interrupt-lost'] ?? 0) > 0);
    // The swarm turns the fault on (with the reset) often enough that it fires in some of 40 seeds.
    expect(lost.length).toBeGreaterThanOrEqual(2);
    for (const r of lost) expect(r.faults).toEqual(expect.arrayContaining(['nic.deviceReset', 'nic.configInterruptLoss']));
    // --stats: every lost configuration interrupt was found by the status poll, and the NIC recovered.
    const first = await new SeedRunner().run({ appDir: APP, seed: lost[0]!.seed, faults: { kind: 'exact', faults: lost[0]!.faults }, stats: true });
    expect(first.violation).toBeUndefined();
    const nicLines = first.stats!.split('\n').filter((l) => l.includes('config interrupts lost'));
    const found = nicLines.map((l) => /config interrupts lost (\d+) \(found by the driver's status poll (\d+)\)/.exec(l)).filter((m) => m !== null && m[1] !== '0');
    expect(found.length).toBeGreaterThan(0);
    for (const m of found) expect(Number(m![2])).toBeGreaterThanOrEqual(Number(m![1]));
    // The same seeds with the poll off: the reset is never noticed, the driver resends forever.
    const dead = await Promise.all(lost.map((r) => pool.run({ appDir: APP, configFile: 'ebbrt.no-status-poll.config.ts', seed: r.seed, faults: { kind: 'exact', faults: r.faults }, trace: false, maxSlices: 100_000 })));
    for (const d of dead) expect(d.violation, `seed ${d.seed}`).toMatch(/^the run goes quiet: it was still busy after 100000 core slices/);
  }, 600_000);
});

describe('one SeedRunner, seed after seed', () => {
  it('reuses module imports (and machine memory where guest memory is private) without changing a run: seed 1 after seed 2 is byte-exact', async () => {
    const runner = new SeedRunner();
    const job = (seed: number) => ({ appDir: APP, seed, faults: { kind: 'all' } as const });
    const first = await runner.run(job(1));
    const other = await runner.run(job(2));
    const again = await runner.run(job(1));
    const fresh = await new SeedRunner().run(job(1));
    expect(other.digest).not.toBe(first.digest);
    expect(again.digest).toBe(first.digest);
    expect(fresh.digest).toBe(first.digest);
    expect([first.violation, other.violation, again.violation]).toEqual([undefined, undefined, undefined]);
  }, 600_000);
});

describe('the counter invariants', () => {
  const check = (lines: string[]): string | undefined => {
    const ctx = { seed: 1, faults: [], lines, run: undefined as never } satisfies InvariantContext;
    for (const [name, inv] of Object.entries(invariants)) {
      const v = inv(ctx);
      if (v === false || typeof v === 'string') return `${name}: ${v}`;
    }
    return undefined;
  };
  const good = [
    '[node 2 core 0] node 2 total 10 applied 2 checkpoint retries refused 1 unavailable 0',
    '[node 3 core 1] node 3 total 5 applied 1 checkpoint retries refused 0 unavailable 0',
    '[node 1 core 0] checkpoint node 2 sum 10',
    '[node 1 core 0] checkpoint node 3 sum 5',
    '[node 1 core 0] journal node 2 sum 10 distinct 2 records 3',
    '[node 1 core 0] journal node 3 sum 5 distinct 1 records 1',
    '[node 1 core 0] driver done node 2 acked 10 adds 2, node 3 acked 5 adds 1',
  ];
  it('a correct run passes', () => expect(check(good)).toBeUndefined());
  it('reject a hang, a lost or doubled add, a stale or missing checkpoint, a short or unread journal, and a stale or phantom read', () => {
    expect(check(good.slice(0, 4))).toMatch(/^the driver finished/);
    expect(check(good.map((l) => l.replace('node 2 sum 10', 'node 2 sum 7')))).toMatch(/node 2's checkpoints sum to 7, the driver's acked adds to it sum to 10/);
    expect(check(good.filter((l) => !l.includes('checkpoint node 3')))).toMatch(/node 3's checkpoints sum to nothing/);
    expect(check([good[0]!.replace('total 10', 'total 7'), ...good.slice(1)])).toMatch(/node 2 holds 7, the driver's acked adds to it sum to 10/);
    expect(check([good[0]!.replace('applied 2', 'applied 3'), ...good.slice(1)])).toMatch(/node 2 applied 3 adds, the driver sent 2/);
    expect(check(good.map((l) => l.replace('journal node 2 sum 10 distinct 2', 'journal node 2 sum 7 distinct 1')))).toMatch(/node 2's journal holds 1 adds summing to 7, the driver's 2 acked adds to it sum to 10/);
    expect(check(good.filter((l) => !l.includes('journal node 3')))).toMatch(/node 3's journal was not read/);
    expect(check([...good, 'read node 3 value 4 acked 5 sent 5'])).toMatch(/outside \[acked 5, sent 5\]/);
    expect(check([...good, 'read node 3 value 6 acked 5 sent 5'])).toMatch(/outside/);
  });
});

describe('journalSum', () => {
  it('property: counts each add once, however often its record was appended, and skips torn lines', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ id: fc.nat(30), n: fc.nat(100) }), { maxLength: 40 }), fc.array(fc.nat(39), { maxLength: 10 }), (adds, repeats) => {
        const unique = [...new Map(adds.map((a) => [a.id, a])).values()];
        const records = [...unique, ...repeats.filter((i) => i < unique.length).map((i) => unique[i]!)];
        const text = records.map((a) => `add ${a.id} ${a.n}\n`).join('') + 'add 99';
        expect(journalSum(text)).toEqual({ sum: unique.reduce((s, a) => s + a.n, 0), distinct: unique.length, records: records.length });
      }),
    );
  });
});
