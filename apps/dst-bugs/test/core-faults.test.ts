/**
 * Core faults under the counter app: late interrupts, stalled cores (SMI-like pauses) and skewed, drifting machine clocks (what
 * each node's Timer counts in, so TCP's and the client's timeouts run on it). The counter's
 * invariants (exact totals over lossy, reordering TCP) hold over several seeds; each fault changes
 * the trace and is marked in it; the same seed and faults give the same digest.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runApp, SeedRunner } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = 'ebbrt.core-faults.config.ts';

describe('core faults under the counter', () => {
  it('the seed runner swarms core.clock and core.interruptDelay; invariants hold over seeds; replay is exact', async () => {
    const runner = new SeedRunner();
    const none = await runner.run({ appDir: APP, configFile, seed: 1, faults: { kind: 'exact', faults: [] } });
    for (const seed of [1, 2, 3, 4, 5]) {
      const all = await runner.run({ appDir: APP, configFile, seed, faults: { kind: 'all' } });
      expect(all.faults).toEqual(expect.arrayContaining(['core.interruptDelay', 'core.stall', 'core.clock', 'link.loss']));
      expect(all.violation, `seed ${seed}`).toBeUndefined();
      const again = await runner.run({ appDir: APP, configFile, seed, faults: { kind: 'all' } });
      expect(again.digest).toBe(all.digest);
    }
    for (const fault of ['core.interruptDelay', 'core.stall', 'core.clock']) {
      const one = await runner.run({ appDir: APP, configFile, seed: 1, faults: { kind: 'exact', faults: [fault] } });
      expect(one.violation, fault).toBeUndefined();
      expect(one.digest, fault).not.toBe(none.digest);
      expect((await runner.run({ appDir: APP, configFile, seed: 1, faults: { kind: 'exact', faults: [fault] } })).digest).toBe(one.digest);
    }
  }, 300_000);

  it('each node sees its own skewed clock, recorded as a fault; late interrupts are counted and in the trace', async () => {
    const run = await runApp(APP, { configFile, seed: 9, trace: true, output: () => {} });
    const counts = run.simulation.faults.counts();
    expect(counts['core.clock']).toBe(2);
    expect(counts['core.interrupt-late']).toBeGreaterThan(0);
    expect(counts['core.stall']).toBeGreaterThan(0);
    const trace = run.simulation.trace.toJSON();
    expect(trace.split('"name":"fault: core.interrupt-late"').length - 1).toBe(counts['core.interrupt-late']);
    const machines = run.simulation.machines.filter((m) => m.name.startsWith('node'));
    const now = run.simulation.now();
    const clocks = machines.map((m) => m.clockNs());
    expect(clocks.every((c) => c !== now)).toBe(true);
    expect(clocks[0]).not.toBe(clocks[1]);
  }, 120_000);
});
