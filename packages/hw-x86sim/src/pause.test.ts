import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from './simulation.js';
import { hostHops as hops, startRandomCores } from '../test/random-cores.js';

/**
 * A world whose trace depends on every scheduling choice: two machines of two cores; each slice
 * draws from the core's own PRNG stream and then yields, IPIs a sibling, or arms a timer that
 * raises an interrupt later and halts. Bounded: each core runs at most `budget` slices.
 */
function world(seed: number, budget = 25): Simulation {
  const sim = new Simulation({ seed, trace: true });
  for (let m = 0; m < 2; m++) {
    const machine = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    startRandomCores(sim, machine, { slices: budget, streamPrefix: `m${m}`, ipi: true, timerMinNs: 1000, timerSpreadNs: 5000 });
  }
  return sim;
}

type Action = { op: 'pause' | 'step' | 'resume'; wait: number; n: number };

describe('pause, step and resume (virtual clock)', () => {
  it('a paused run stops entering cores and moving time; step runs exactly one slice; resume finishes', async () => {
    const sim = world(7);
    sim.pause();
    const run = sim.run();
    await hops(50);
    expect(sim.totalSlices).toBe(0);
    expect(sim.now()).toBe(0);
    expect(sim.running).toBe(true);
    for (let i = 1; i <= 5; i++) {
      sim.step();
      await hops(40);
      expect(sim.totalSlices).toBe(i);
    }
    const t = sim.now();
    await hops(40);
    expect(sim.now()).toBe(t);
    sim.step(3);
    await hops(80);
    expect(sim.totalSlices).toBe(8);
    sim.resume();
    const r = await run;
    expect(r.reason).toBe('quiescent');
    expect(sim.paused).toBe(false);
    const plain = world(7);
    const p = await plain.run();
    expect(r.slices).toBe(p.slices);
    expect(sim.now()).toBe(plain.now());
    expect(sim.trace.toJSON()).toBe(plain.trace.toJSON());
  });

  it('stop() and an abort end a paused run; pause holds across runs', async () => {
    const sim = world(3);
    sim.pause();
    const run = sim.run();
    await hops(20);
    sim.stop();
    expect((await run).reason).toBe('stopped');
    expect(sim.paused).toBe(true);
    const ac = new AbortController();
    const again = sim.run({ signal: ac.signal });
    await hops(20);
    expect(sim.totalSlices).toBe(0);
    ac.abort();
    expect(await again).toMatchObject({ reason: 'stopped', slices: 0 });
  });

  it('refuses a realtime clock and a step when not paused, naming the problem', () => {
    expect(() => new Simulation({ clock: 'realtime' }).pause()).toThrow(/virtual clock/);
    const sim = new Simulation();
    expect(() => sim.step()).toThrow(/paused/);
    sim.pause();
    expect(() => sim.step(0)).toThrow(/integer >= 1, got 0/);
    expect(() => sim.step(1.5)).toThrow(/got 1.5/);
  });

  it('property: any interleaving of pause/step/resume gives the same trace as none', async () => {
    const baseline = new Map<number, { json: string; slices: number; time: number }>();
    const action = fc.record({ op: fc.constantFrom<Action['op']>('pause', 'step', 'resume'), wait: fc.nat({ max: 6 }), n: fc.integer({ min: 1, max: 4 }) });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(action, { maxLength: 25 }), async (seed, actions) => {
        let base = baseline.get(seed);
        if (base === undefined) {
          const plain = world(seed);
          const r = await plain.run();
          base = { json: plain.trace.toJSON(), slices: r.slices, time: plain.now() };
          baseline.set(seed, base);
        }
        const sim = world(seed);
        const run = sim.run();
        let done = false;
        void run.then(() => (done = true));
        for (const a of actions) {
          await hops(a.wait);
          if (done) break;
          if (a.op === 'pause') sim.pause();
          else if (a.op === 'resume') sim.resume();
          else {
            if (!sim.paused) sim.pause();
            sim.step(a.n);
          }
        }
        sim.resume();
        const r = await run;
        expect(r.reason).toBe('quiescent');
        expect(r.slices).toBe(base.slices);
        expect(sim.now()).toBe(base.time);
        expect(sim.trace.toJSON()).toBe(base.json);
      }),
      { numRuns: 60 },
    );
  });
});

describe('CoreStats', () => {
  it('counts slices per core (summing to the run), times them only while sampling, and is absent with coreStats: false', async () => {
    const sim = world(5);
    const r = await sim.run();
    const cores = sim.machines.flatMap((m) => m.cores);
    expect(cores.reduce((a, c) => a + c.stats!.slices, 0)).toBe(r.slices);
    for (const c of cores) {
      expect(c.stats!.slices).toBeGreaterThan(0);
      expect(c.stats!.busyHostMs).toBe(0);
    }
    const sampled = world(5);
    sampled.sampleCores = true;
    await sampled.run();
    const busy = sampled.machines.flatMap((m) => m.cores).map((c) => c.stats!.busyHostMs);
    expect(busy.every((b) => b > 0)).toBe(true);
    // Sampling reads the host clock only: the trace is untouched.
    expect(sampled.trace.toJSON()).toBe(sim.trace.toJSON());
    const none = new Simulation({ coreStats: false });
    expect(none.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0]!.stats).toBeNull();
  });
});

describe('TraceRecorder tap', () => {
  it('a tap sees every span and instant; it turns tracing on without recording, and a recording run traces the same with one', async () => {
    const seen: string[] = [];
    const tapped = world(9);
    tapped.trace.tap = (ph, pid, tid, name, ts) => seen.push(`${ph} ${pid}/${tid} ${name} @${ts}`);
    await tapped.run();
    const plain = world(9);
    await plain.run();
    expect(tapped.trace.toJSON()).toBe(plain.trace.toJSON());
    const events = (JSON.parse(plain.trace.toJSON()) as { traceEvents: { ph: string }[] }).traceEvents.filter((e) => e.ph === 'X' || e.ph === 'i');
    expect(seen.length).toBe(events.length);
    const off = new Simulation();
    expect(off.trace.enabled).toBe(false);
    const got: string[] = [];
    off.trace.tap = (_ph, _p, _t, name) => got.push(name);
    expect(off.trace.enabled).toBe(true);
    off.trace.instant(1, 0, 'x', 0);
    expect(got).toEqual(['x']);
    expect(off.trace.length).toBe(0);
    off.trace.tap = null;
    expect(off.trace.enabled).toBe(false);
  });
});
