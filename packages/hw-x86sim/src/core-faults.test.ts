import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Core } from './core.js';
import type { CoreFaults } from './core-faults.js';
import { Simulation } from './simulation.js';

/**
 * One core that arms a periodic APIC timer of 100 µs (machine clock) and logs, per tick, the
 * simulation time and the machine's clock; ticks stop after `ticks`.
 */
async function ticker(seed: number, faults: CoreFaults | undefined, ticks = 20) {
  const sim = new Simulation({ seed, trace: true });
  const m = sim.createMachine({ cores: 1, memoryBytes: 4096 });
  if (faults !== undefined) m.setCoreFaults(faults);
  const log: Array<[number, number]> = [];
  let armed = false;
  m.cores[0].start({
    runSlice(core: Core) {
      if (!armed) {
        armed = true;
        core.apic.timerPeriodic(100_000, 40);
      }
      while (core.apic.nextPending() >= 0) {
        log.push([sim.now(), m.clockNs()]);
        if (log.length === ticks) core.apic.timerStop();
      }
      return 'halt';
    },
  });
  await sim.run();
  return { sim, log, trace: sim.trace.toJSON() };
}

describe('core faults', () => {
  it('validation names the field', () => {
    const m = new Simulation().createMachine({ cores: 1, memoryBytes: 4096 });
    expect(() => m.setCoreFaults({ interruptDelay: { probability: 2, maxNs: 5 } })).toThrow(/interruptDelay\.probability/);
    expect(() => m.setCoreFaults({ interruptDelay: { probability: 0.5, maxNs: 0 } })).toThrow(/interruptDelay\.maxNs/);
    expect(() => m.setCoreFaults({ clock: { maxSkewNs: -1, maxDriftPpm: 0 } })).toThrow(/clock\.maxSkewNs/);
    expect(() => m.setCoreFaults({ clock: { maxSkewNs: 0, maxDriftPpm: 1e6 } })).toThrow(/clock\.maxDriftPpm/);
    expect(() => m.setCoreFaults({ smi: 1 } as unknown as CoreFaults)).toThrow(/faults\.smi is not a fault/);
  });

  it('a skewed, drifting clock: the machine clock and its APIC timer count in local time, recorded once as a fault', async () => {
    const clean = await ticker(1, undefined);
    expect(clean.log.map(([t]) => t)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100_000));
    expect(clean.log.every(([t, local]) => t === local)).toBe(true);
    const skewed = await ticker(1, { clock: { maxSkewNs: 1_000_000_000, maxDriftPpm: 50_000 } });
    const [{ skewNs, driftPpm }] = [(skewed.sim.faults.count('core.clock') === 1 ? JSON.parse(/"name":"fault: core.clock".*?"args":(\{[^}]*\})/.exec(skewed.trace)![1]!) : {}) as { skewNs: number; driftPpm: number }];
    expect(skewNs).toBeGreaterThan(0);
    expect(driftPpm).not.toBe(0);
    for (const [t, local] of skewed.log) expect(local).toBe(Math.floor(t * (1 + driftPpm / 1e6)) + skewNs);
    // The timer's period is 100 µs of the machine's clock: in simulation time it is shorter when the
    // clock runs fast, longer when slow.
    const period = skewed.log[1]![0] - skewed.log[0]![0];
    expect(period).toBe(Math.ceil(100_000 / (1 + driftPpm / 1e6)));
    expect(skewed.trace).not.toBe(clean.trace);
    expect((await ticker(1, { clock: { maxSkewNs: 1_000_000_000, maxDriftPpm: 50_000 } })).trace).toBe(skewed.trace);
    expect((await ticker(2, { clock: { maxSkewNs: 1_000_000_000, maxDriftPpm: 50_000 } })).log).not.toEqual(skewed.log);
  });

  it('late interrupts: ticks arrive up to maxNs late, each a core.interrupt-late fault in the trace, replayable by seed', async () => {
    const faults = { interruptDelay: { probability: 0.5, maxNs: 30_000 } };
    const a = await ticker(3, faults);
    const n = a.sim.faults.count('core.interrupt-late');
    expect(n).toBeGreaterThan(0);
    expect(a.trace.split('"name":"fault: core.interrupt-late"').length - 1).toBe(n);
    a.log.forEach(([t], i) => {
      const due = (i + 1) * 100_000;
      expect(t).toBeGreaterThanOrEqual(due);
      expect(t).toBeLessThanOrEqual(due + 30_000);
    });
    expect(a.log.some(([t], i) => t > (i + 1) * 100_000)).toBe(true);
    expect((await ticker(3, faults)).trace).toBe(a.trace);
    expect((await ticker(4, faults)).trace).not.toBe(a.trace);
  });

  it('a stalled core (SMI): ticks that fall in a stall run when it ends, each stall a core.stall fault, replayable by seed', async () => {
    const faults = { stall: { probability: 0.3, maxNs: 250_000 } };
    const a = await ticker(5, faults);
    const n = a.sim.faults.count('core.stall');
    expect(n).toBeGreaterThan(0);
    expect(a.trace.split('"name":"fault: core.stall"').length - 1).toBe(n);
    // Late ticks (beyond their due time) exist, and the APIC coalesces ticks missed during a stall.
    expect(a.log.some(([t], i) => t > (i + 1) * 100_000)).toBe(true);
    for (let i = 1; i < a.log.length; i++) expect(a.log[i]![0]).toBeGreaterThan(a.log[i - 1]![0]);
    expect((await ticker(5, faults)).trace).toBe(a.trace);
    expect((await ticker(6, faults)).trace).not.toBe(a.trace);
    expect(() => a.sim.machines[0]!.setCoreFaults({ stall: { probability: 0.5, maxNs: 0 } })).toThrow(/stall\.maxNs/);
  });

  it('property: any faults and seed, the machine clock never goes backwards and every tick is delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 100_000 }),
        async (seed, p, maxNs, maxSkewNs, maxDriftPpm) => {
          const r = await ticker(seed, { interruptDelay: { probability: p, maxNs }, stall: { probability: p, maxNs }, clock: { maxSkewNs, maxDriftPpm } }, 8);
          // A tick delayed past the timer's stop still arrives (it was already raised): at most one extra per late fault.
          expect(r.log.length).toBeGreaterThanOrEqual(8);
          expect(r.log.length).toBeLessThanOrEqual(8 + r.sim.faults.count('core.interrupt-late'));
          for (let i = 1; i < r.log.length; i++) expect(r.log[i]![1]).toBeGreaterThanOrEqual(r.log[i - 1]![1]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
