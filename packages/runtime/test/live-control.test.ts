/**
 * The dashboard's control hook and cores panel data on a real Simulation: pause / step n /
 * resume move the run by exactly the slices asked; every refusal says why and changes nothing;
 * the cores' rates come from the counters' deltas.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '@ebbrt/hw-x86sim';
import { controlSimulation } from '../src/cli/live-ui.js';
import { CoreRates } from '../src/cli/live-cores.js';

/** A machine whose 2 cores keep running slices (each slice yields and stays runnable). */
function busyWorld(clock: 'virtual' | 'realtime'): Simulation {
  const sim = new Simulation({ seed: 7, clock });
  const m = sim.createMachine({ name: 'node1', cores: 2, memoryBytes: 1 << 20 });
  for (const core of m.cores) core.start({ runSlice: () => 'yield' as const });
  return sim;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('controlSimulation', () => {
  it('virtual: pause parks the run, step n runs exactly n slices, resume runs on', async () => {
    const sim = busyWorld('virtual');
    const run = sim.run({ maxSlices: 50_000 });
    expect(controlSimulation(sim, { action: 'pause' })).toEqual({ paused: true, slices: 0 });
    for (let i = 0; i < 20; i++) await tick();
    expect(sim.totalSlices).toBe(0);
    expect(() => controlSimulation(sim, { action: 'pause' })).not.toThrow();
    controlSimulation(sim, { action: 'step', steps: 7 });
    for (let i = 0; i < 40; i++) await tick();
    expect(sim.totalSlices).toBe(7);
    controlSimulation(sim, { action: 'step', steps: 1 });
    for (let i = 0; i < 40; i++) await tick();
    expect(sim.totalSlices).toBe(8);
    expect(controlSimulation(sim, { action: 'resume' })).toEqual({ paused: false, slices: 8 });
    expect(() => controlSimulation(sim, { action: 'step', steps: 1 })).toThrow(/step needs a paused simulation: press Pause first/);
    await run;
    expect(sim.totalSlices).toBe(50_000);
    expect(() => controlSimulation(sim, { action: 'pause' })).toThrow(/pause: the run has ended/);
  });

  it('realtime: every action is refused naming the clock', async () => {
    const sim = busyWorld('realtime');
    const run = sim.run({ maxSlices: 200 });
    for (const action of ['pause', 'resume'] as const) expect(() => controlSimulation(sim, { action })).toThrow(`${action} needs the virtual clock: this run is realtime`);
    expect(() => controlSimulation(sim, { action: 'step', steps: 3 })).toThrow(/step needs the virtual clock/);
    expect(sim.paused).toBe(false);
    await run;
  });
});

describe('CoreRates', () => {
  it('events/s and idle % from the deltas; the same totals again keep the last window; late past the budget', () => {
    const rates = new CoreRates(100);
    const core = (events: number, busyHostMs: number, ageNs?: number) => ({ index: 1, state: 'running', slices: events, busyHostMs, eventsDispatched: events, eventsQueued: 3, ...(ageNs !== undefined ? { oldestEvent: { name: 'serve', ageNs } } : {}) });
    expect(rates.snapshot(2, core(10, 0), 1000)).toEqual({ index: 1, state: 'running', slices: 10, queued: 3 });
    expect(rates.snapshot(2, core(60, 125), 1500)).toEqual({ index: 1, state: 'running', slices: 60, queued: 3, eventsPerSec: 100, idlePct: 75 });
    expect(rates.snapshot(2, core(60, 125, 150e6), 1500)).toMatchObject({ eventsPerSec: 100, idlePct: 75, oldest: { name: 'serve', ageMs: 150, late: true } });
    expect(rates.snapshot(2, core(60, 125, 50e6), 1500).oldest).toEqual({ name: 'serve', ageMs: 50, late: false });
    // Another node's core 1 is its own series.
    expect(rates.snapshot(3, core(5, 0), 1500).eventsPerSec).toBeUndefined();
    rates.forget(2);
    expect(rates.snapshot(2, core(70, 130), 2000).eventsPerSec).toBeUndefined();
  });
});
