import { describe, expect, it } from 'vitest';
import type { Core, CoreProgram } from './core.js';
import { Simulation } from './simulation.js';

/** A program that drains its APIC each slice, logging (time, core, vector), then halts. */
function interruptLogger(sim: Simulation, log: [number, number, number][]): CoreProgram {
  return {
    runSlice(core: Core) {
      for (let v = core.apic.nextPending(); v >= 0; v = core.apic.nextPending()) log.push([sim.now(), core.index, v]);
      return 'halt';
    },
  };
}

describe('LocalApic', () => {
  it('delivers pending vectors highest first and coalesces repeats', () => {
    const sim = new Simulation();
    const apic = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0].apic;
    for (const v of [32, 200, 33, 255, 0, 64, 200]) apic.raise(v);
    const got: number[] = [];
    while (apic.hasPending()) got.push(apic.nextPending());
    expect(got).toEqual([255, 200, 64, 33, 32, 0]);
    expect(apic.nextPending()).toBe(-1);
    expect(() => apic.raise(256)).toThrow(/vector/);
  });

  it('an IPI wakes a halted core on the same machine', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    const log: [number, number, number][] = [];
    m.cores[1].start(interruptLogger(sim, log));
    let sent = false;
    m.cores[0].start({
      runSlice(core) {
        if (!sent && m.cores[1].state === 'halted') {
          sent = true;
          core.apic.sendIpi(1, 0xf0);
          return 'halt';
        }
        return sent ? 'halt' : 'yield';
      },
    });
    const r = await sim.run();
    expect(r.reason).toBe('quiescent');
    expect(log).toEqual([[0, 1, 0xf0]]);
    expect(m.cores.map((c) => c.state)).toEqual(['halted', 'halted']);
    expect(() => m.cores[0].apic.sendIpi(2, 0x40)).toThrow(/core 2 does not exist/);
  });

  it('a one-shot timer fires once at the right virtual time', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    const log: [number, number, number][] = [];
    core.start(interruptLogger(sim, log));
    core.apic.timerOneShot(1_500, 0x30);
    const r = await sim.run();
    expect(log).toEqual([[1_500, 0, 0x30]]);
    expect(r).toMatchObject({ reason: 'quiescent', finalTimeNs: 1_500 });
  });

  it('a periodic timer fires at exact multiples of its period', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    const log: [number, number, number][] = [];
    core.start(interruptLogger(sim, log));
    core.apic.timerPeriodic(1_000_000, 0x31);
    const r = await sim.run({ untilNs: 5_500_000 });
    expect(r.reason).toBe('until');
    expect(r.finalTimeNs).toBe(5_500_000);
    expect(log.map(([t]) => t)).toEqual([1, 2, 3, 4, 5].map((k) => k * 1_000_000));
  });

  it('a background timer fires while foreground work is pending, and keeps no virtual run alive', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    const log: [number, number, number][] = [];
    for (const c of m.cores) c.start(interruptLogger(sim, log));
    // Alone, a background periodic timer is no work at all: the run is quiescent at once.
    m.cores[0].apic.timerPeriodic(1_000_000, 0x31, true);
    expect(await sim.run()).toMatchObject({ reason: 'quiescent', finalTimeNs: 0 });
    expect(log).toEqual([]);
    // With a foreground deadline at 3.5 ms on the other core, it ticks until then, and the run ends there.
    m.cores[1].apic.timerOneShot(3_500_000, 0x40);
    expect(await sim.run()).toMatchObject({ reason: 'quiescent', finalTimeNs: 3_500_000 });
    expect(log).toEqual([[1_000_000, 0, 0x31], [2_000_000, 0, 0x31], [3_000_000, 0, 0x31], [3_500_000, 1, 0x40]]);
    // A run that does not stop when idle still ticks it, up to its end.
    expect(await sim.run({ untilNs: 6_500_000, stopWhenIdle: false })).toMatchObject({ reason: 'until', finalTimeNs: 6_500_000 });
    expect(log.slice(4).map(([t]) => t)).toEqual([4_000_000, 5_000_000, 6_000_000]);
    // Re-armed as foreground, the same timer keeps the run going to its end.
    m.cores[0].apic.timerPeriodic(1_000_000, 0x31);
    expect(await sim.run({ untilNs: 8_500_000 })).toMatchObject({ reason: 'until', finalTimeNs: 8_500_000 });
  });

  it('a stopped timer never fires, and re-arming replaces the old deadline', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    const log: [number, number, number][] = [];
    core.start(interruptLogger(sim, log));
    core.apic.timerPeriodic(100, 0x31);
    core.apic.timerStop();
    const r = await sim.run();
    expect(log).toEqual([]);
    expect(r.finalTimeNs).toBe(0);
    core.apic.timerOneShot(100, 0x32);
    core.apic.timerOneShot(300, 0x33);
    await sim.run();
    expect(log).toEqual([[300, 0, 0x33]]);
  });
});
