import { describe, expect, it } from 'vitest';
import type { Core, CoreProgram } from './core.js';
import type { SteppingMode } from './scheduler.js';
import { Simulation } from './simulation.js';

const MODES: SteppingMode[] = ['chained', 'macrotask'];

/**
 * A continuation of `depth` levels that alternates the host's two job queues (an await, a
 * queueMicrotask, a process.nextTick queued from a microtask, a microtask queued from a tick...),
 * checking at each level that `current()` is still `core`. Any partial drain between two steps
 * lets a deeper level run after another core was entered.
 */
function deepContinuation(core: Core, depth: number, current: () => Core | null, onDone: (ok: boolean) => void): void {
  let ok = true;
  const level = (k: number): void => {
    if (current() !== core) ok = false;
    if (k === depth) return onDone(ok);
    switch (k % 4) {
      case 0:
        void (async () => {
          await null;
          level(k + 1);
        })();
        break;
      case 1:
        queueMicrotask(() => level(k + 1));
        break;
      case 2:
        process.nextTick(() => level(k + 1));
        break;
      default:
        void Promise.resolve().then(() => process.nextTick(() => queueMicrotask(() => level(k + 1))));
    }
  };
  level(0);
}

describe('stepping modes', () => {
  for (const mode of MODES) {
    it(`${mode}: every continuation of a slice (deep chains of awaits, microtasks and ticks) runs before another core is entered`, async () => {
      for (let seed = 1; seed <= 5; seed++) {
        const sim = new Simulation({ seed, stepping: mode });
        expect(sim.stepping).toBe(mode);
        let current: Core | null = null;
        let done = 0;
        let wrong = 0;
        const program = (slices: number): CoreProgram => {
          let left = slices;
          return {
            runSlice(core) {
              current = core;
              while (core.apic.nextPending() >= 0);
              deepContinuation(core, 40, () => current, (ok) => {
                done++;
                if (!ok) wrong++;
              });
              return --left > 0 ? 'yield' : 'halt';
            },
            leftCpu: () => (current = null),
          };
        };
        const m = sim.createMachine({ cores: 3, memoryBytes: 4096 });
        for (const core of m.cores) core.start(program(30));
        // Hardware events in between: they run with no core current, after the drain.
        for (let t = 1; t <= 20; t++) sim.scheduleAfter(t * 7, () => expect(current).toBe(null));
        const r = await sim.run();
        expect(r.reason).toBe('quiescent');
        expect(done, `seed ${seed}`).toBe(90);
        expect(wrong, `seed ${seed}`).toBe(0);
      }
    });
  }

  it('both modes give the same order of slices, continuations and hardware events for a seed', async () => {
    async function simulate(seed: number, mode: SteppingMode): Promise<string> {
      const sim = new Simulation({ seed, stepping: mode, trace: true });
      const log: string[] = [];
      const m = sim.createMachine({ cores: 4, memoryBytes: 4096 });
      for (const core of m.cores) {
        let left = 25;
        core.start({
          runSlice(c) {
            while (c.apic.nextPending() >= 0);
            log.push(`s${c.index}@${sim.now()}`);
            void (async () => {
              await null;
              log.push(`c${c.index}`);
              // Continuations drive the simulation too: wake a peer through its APIC, now or later.
              if (left % 3 === 0) m.cores[(c.index + 1) % 4]!.apic.raise(0x40);
              if (left % 5 === 0) sim.scheduleAfter(13, () => log.push(`hw${c.index}@${sim.now()}`));
            })();
            return --left > 0 ? (left % 4 === 0 ? 'halt' : 'yield') : 'halt';
          },
        });
      }
      await sim.run();
      return log.join(' ') + sim.trace.toJSON();
    }
    const seen = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const chained = await simulate(seed, 'chained');
      expect(chained, `seed ${seed}`).toBe(await simulate(seed, 'macrotask'));
      seen.add(chained);
    }
    expect(seen.size).toBeGreaterThan(1); // the seed, not the mode, picks the interleaving
  });

  for (const [mode, clock, bound] of [
    ['chained', 'virtual', 256],
    ['chained', 'realtime', 32],
    ['macrotask', 'virtual', 32],
  ] as const) {
    it(`${mode}, ${clock} clock: the host loop gets a turn at least every ${bound} steps of a busy run`, async () => {
      const sim = new Simulation({ stepping: mode, clock });
      const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0]!;
      const total = 5000;
      let left = total;
      core.start({ runSlice: () => (--left > 0 ? 'yield' : 'halt') });
      // A host callback that re-queues itself: what I/O, timers and other simulations see.
      const seenAt: number[] = [];
      let on = true;
      const tick = (): void => {
        seenAt.push(sim.totalSlices);
        if (on) setImmediate(tick);
      };
      setImmediate(tick);
      await sim.run({ stopWhenIdle: true });
      on = false;
      expect(sim.totalSlices).toBe(total);
      let maxGap = 0;
      for (let i = 1; i < seenAt.length; i++) maxGap = Math.max(maxGap, seenAt[i]! - seenAt[i - 1]!);
      // One step is one slice here (no hardware events): the gap is the chain bound.
      expect(maxGap).toBeLessThanOrEqual(bound);
      expect(maxGap).toBeGreaterThan(1);
      expect(seenAt.length).toBeGreaterThanOrEqual(Math.floor(total / bound));
    });
  }

  it('a bad stepping mode is refused with its name', () => {
    expect(() => new Simulation({ stepping: 'fast' as SteppingMode })).toThrow(/stepping must be 'chained' or 'macrotask', got fast/);
    expect(new Simulation().stepping).toBe('chained'); // Node has the drain
  });
});
