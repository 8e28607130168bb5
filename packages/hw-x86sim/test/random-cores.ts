import type { CoreProgram } from '../src/core.js';
import type { Machine } from '../src/machine.js';
import type { Simulation } from '../src/simulation.js';

/** Lets the host run `n` macrotask turns (what outside code gets between two looks). */
export async function hostHops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface RandomCoresOptions {
  /** Slices per core before it halts for good (bounds the run). */
  slices: number;
  /** Stream names are `${streamPrefix}c${core}`: distinct per machine when there are several. */
  streamPrefix: string;
  /** Roll 1 IPIs the sibling core (vector 0x40) instead of arming a timer. */
  ipi: boolean;
  /** Timer delay: timerMinNs + a draw below timerSpreadNs. */
  timerMinNs: number;
  timerSpreadNs: number;
}

/**
 * Starts a program on every core of `machine` whose trace shows every scheduling choice: each
 * slice drains its interrupts, draws a roll from the core's own PRNG stream and traces it, then
 * yields (roll 0), IPIs its sibling (roll 1, with `ipi`), or arms a timer that raises 0x41 later
 * and halts.
 */
export function startRandomCores(sim: Simulation, machine: Machine, o: RandomCoresOptions): void {
  for (const core of machine.cores) {
    const prng = sim.prng.fork(`${o.streamPrefix}c${core.index}`);
    let left = o.slices;
    const program: CoreProgram = {
      runSlice(c) {
        while (c.apic.nextPending() >= 0);
        const roll = prng.nextInt(3);
        sim.trace.instant(c.machine.tracePid, c.index, `work${roll}`, sim.now(), { left });
        if (--left <= 0) return 'halt';
        if (roll === 0) return 'yield';
        if (roll === 1 && o.ipi) {
          c.apic.sendIpi(1 - c.index, 0x40);
          return 'halt';
        }
        sim.scheduleAfter(o.timerMinNs + prng.nextInt(o.timerSpreadNs), () => c.apic.raise(0x41));
        return 'halt';
      },
    };
    core.start(program);
  }
}
