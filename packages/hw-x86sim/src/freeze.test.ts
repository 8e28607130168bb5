import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from './simulation.js';
import { hostHops as hops, startRandomCores } from '../test/random-cores.js';

/**
 * Two cores that keep drawing, yielding and arming timers (so every scheduling choice shows in
 * the trace), and an "outside server" asked at 3 µs: it freezes the world, answers after
 * `hostHops` macrotasks of host work (as a front-end's would, taking host time), then releases.
 */
function world(seed: number, hostHops: number | undefined): { sim: Simulation; answeredAt: number[]; frozenSlices: number[] } {
  const sim = new Simulation({ seed, trace: true });
  const machine = sim.createMachine({ cores: 2, memoryBytes: 4096 });
  const answeredAt: number[] = [];
  const frozenSlices: number[] = [];
  startRandomCores(sim, machine, { slices: 30, streamPrefix: '', ipi: false, timerMinNs: 500, timerSpreadNs: 2000 });
  if (hostHops !== undefined) {
    sim.schedule(3000, () => {
      const release = sim.freeze();
      const slices = sim.totalSlices;
      void hops(hostHops).then(() => {
        frozenSlices.push(sim.totalSlices - slices);
        sim.post(() => {
          answeredAt.push(sim.now());
          sim.trace.instant(machine.tracePid, 0, 'answer', sim.now());
          machine.cores[0]!.apic.raise(0x42);
        });
        release();
      });
    });
  }
  return { sim, answeredAt, frozenSlices };
}

describe('freeze (outside work that takes no simulated time)', () => {
  it('while frozen no core is entered and time stands still; the answer lands at the instant it was asked', async () => {
    const w = world(5, 30);
    const r = await w.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(w.frozenSlices).toEqual([0]);
    expect(w.answeredAt).toEqual([3000]);
    expect(w.sim.frozen).toBe(false);
  });

  it('the trace does not depend on how long the host took (property over seeds and host delays)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), async (seed, a, b) => {
        const x = world(seed, a);
        const y = world(seed, b);
        await x.sim.run();
        await y.sim.run();
        expect(x.sim.trace.toJSON()).toBe(y.sim.trace.toJSON());
      }),
      { numRuns: 15 },
    );
  });

  it('an answer changes the trace (the freeze is not a no-op world), and nested freezes stack', async () => {
    const plain = world(9, undefined);
    const asked = world(9, 3);
    await plain.sim.run();
    await asked.sim.run();
    expect(asked.sim.trace.toJSON()).not.toBe(plain.sim.trace.toJSON());

    const sim = new Simulation({ seed: 1 });
    const a = sim.freeze();
    const b = sim.freeze();
    let ran = false;
    sim.post(() => void (ran = true));
    const run = sim.run();
    await hops(10);
    a();
    a(); // idempotent: b still holds
    await hops(10);
    expect(ran).toBe(false);
    expect(sim.frozen).toBe(true);
    b();
    expect((await run).reason).toBe('quiescent');
    expect(ran).toBe(true);
  });
});
