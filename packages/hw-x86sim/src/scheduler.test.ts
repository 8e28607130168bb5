import { describe, expect, it } from 'vitest';
import type { Core, CoreProgram } from './core.js';
import { Simulation } from './simulation.js';

/** Yields `n` slices then halts; logs each slice as `m<machine>c<core>`. */
function busyFor(n: number, log: string[]): CoreProgram {
  let left = n;
  return {
    runSlice(core) {
      while (core.apic.nextPending() >= 0); // acknowledge, or hlt would fall straight through
      log.push(`m${core.machine.id}c${core.index}`);
      return --left > 0 ? 'yield' : 'halt';
    },
  };
}

describe('Scheduler', () => {
  it('a hold keeps an idle virtual run from ending until outside work posts and releases it', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0]!;
    const log: string[] = [];
    core.start(busyFor(1, log));
    const release = sim.hold();
    let ended = false;
    const run = sim.run().then((r) => {
      ended = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false); // idle, but held
    sim.post(() => {
      log.push('posted');
      core.wake();
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['m0c0', 'posted', 'm0c0']);
    expect(ended).toBe(false);
    release();
    release();
    expect((await run).reason).toBe('quiescent');
  });

  it('hlt with an unacknowledged interrupt falls straight through', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    core.start({ runSlice: () => 'halt' });
    core.apic.raise(0x20);
    expect(await sim.run({ maxSlices: 10 })).toMatchObject({ reason: 'max-slices', slices: 10 });
  });

  it('a halted core runs again only after an interrupt or wake', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    let slices = 0;
    core.start({
      runSlice(c) {
        slices++;
        c.apic.nextPending();
        return 'halt';
      },
    });
    expect(await sim.run()).toMatchObject({ reason: 'quiescent', slices: 1 });
    expect(core.state).toBe('halted');
    expect(await sim.run()).toMatchObject({ reason: 'quiescent', slices: 0 });
    sim.post(() => core.wake());
    expect(await sim.run()).toMatchObject({ slices: 1 });
    sim.post(() => core.apic.raise(0x40));
    expect(await sim.run()).toMatchObject({ slices: 1 });
    expect(slices).toBe(3);
  });

  it("drains every microtask continuation of a slice before entering another core", async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const sim = new Simulation({ seed });
      const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
      const [a, b] = m.cores;
      // What software would keep as its per-process "current core" register.
      let current: Core | null = null;
      const log: string[] = [];
      const work: number[] = [];
      let rounds = 0;

      async function continuation(core: Core, round: number): Promise<void> {
        await Promise.resolve();
        await null;
        await (async () => {
          await 0;
        })();
        expect(current).toBe(core);
        log.push(`A-cont${round}`);
        if (round < 5) {
          work.push(round + 1);
          core.wake(); // the core returned 'halt' already; this must bring it back
        }
      }

      a.start({
        runSlice(core) {
          current = core;
          const job = work.shift();
          const round = job ?? 0;
          log.push(`A-slice${round}`);
          rounds++;
          void continuation(core, round);
          return 'halt';
        },
      });
      let bLeft = 50;
      b.start({
        runSlice(core) {
          current = core;
          log.push('B');
          return --bLeft > 0 ? 'yield' : 'halt';
        },
      });
      const r = await sim.run();
      expect(r.reason).toBe('quiescent');
      expect(rounds).toBe(6);
      for (let i = 0; i < log.length; i++) {
        const slice = /^A-slice(\d)$/.exec(log[i]);
        if (slice) expect(log[i + 1]).toBe(`A-cont${slice[1]}`);
      }
      expect(log.filter((l) => l === 'B').length).toBe(50);
    }
  });

  it('a lone core that halts is re-entered when its own continuation wakes it', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    let slices = 0;
    core.start({
      runSlice(c) {
        slices++;
        if (slices < 4) void Promise.resolve().then(() => Promise.resolve()).then(() => c.wake());
        return 'halt';
      },
    });
    expect(await sim.run()).toMatchObject({ reason: 'quiescent', slices: 4 });
  });

  it('a wake during the slice is not lost when the slice then halts', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    let slices = 0;
    core.start({
      runSlice(c) {
        if (++slices === 1) c.wake();
        return 'halt';
      },
    });
    expect(await sim.run()).toMatchObject({ slices: 2 });
  });

  it('virtual time jumps to the next deadline when every core is halted', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    const seen: number[] = [];
    core.start({
      runSlice(c) {
        if (c.apic.nextPending() >= 0) seen.push(sim.now());
        return 'halt';
      },
    });
    sim.scheduleAfter(3_000_000_000, () => core.apic.raise(0x50));
    sim.schedule(1_000, () => core.apic.raise(0x50));
    const cancelled = sim.scheduleAfter(2_000, () => core.apic.raise(0x50));
    expect(sim.cancel(cancelled)).toBe(true);
    const r = await sim.run();
    expect(seen).toEqual([1_000, 3_000_000_000]);
    expect(r).toMatchObject({ reason: 'quiescent', finalTimeNs: 3_000_000_000 });
  });

  it('callbacks due at the same time fire in scheduling order; post runs before the next slice', async () => {
    const sim = new Simulation();
    const order: string[] = [];
    for (const name of ['a', 'b', 'c']) sim.schedule(10, () => order.push(name));
    sim.schedule(5, () => order.push('early'));
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    core.start({
      runSlice() {
        order.push('slice');
        sim.post(() => order.push('posted'));
        return order.length < 5 ? 'yield' : 'halt';
      },
    });
    await sim.run();
    expect(order).toEqual(['slice', 'posted', 'slice', 'posted', 'slice', 'posted', 'early', 'a', 'b', 'c']);
  });

  it('untilNs, maxSlices, stop() and an AbortSignal end a run', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    core.start({ runSlice: () => 'yield' });
    expect(await sim.run({ maxSlices: 7 })).toMatchObject({ reason: 'max-slices', slices: 7 });
    sim.scheduleAfter(0, () => sim.stop());
    expect(await sim.run()).toMatchObject({ reason: 'stopped', slices: 0 });
    const ac = new AbortController();
    const p = sim.run();
    setTimeout(() => ac.abort(), 1);
    const q = sim.run(); // only one run at a time
    await expect(q).rejects.toThrow(/already in progress/);
    sim.stop();
    expect((await p).reason).toBe('stopped');
    ac.abort();
    expect((await sim.run({ signal: ac.signal })).reason).toBe('stopped');
    core.stop();
    expect(await sim.run({ untilNs: 1234 })).toMatchObject({ reason: 'until', finalTimeNs: 1234 });
  });

  it('an exception in a slice, or a bad slice result, rejects run()', async () => {
    const sim = new Simulation();
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    core.start({
      runSlice() {
        throw new Error('guest fault');
      },
    });
    await expect(sim.run()).rejects.toThrow('guest fault');
    const bad = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    core.stop();
    bad.start({ runSlice: () => 'sleep' as 'halt' });
    await expect(sim.run()).rejects.toThrow(/returned sleep/);
  });

  it("a polling core lets virtual time move and looks again after every other activity", async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    const polls: number[] = [];
    let delivered = 0;
    // Core 0 polls a "ring" (a counter the hardware fills) instead of taking interrupts.
    m.cores[0].start({
      runSlice() {
        polls.push(sim.now());
        return delivered >= 3 ? 'halt' : 'poll';
      },
    });
    for (const at of [1_000, 5_000, 9_000]) sim.schedule(at, () => void delivered++);
    const r = await sim.run();
    expect(r.reason).toBe('quiescent');
    expect(r.finalTimeNs).toBe(9_000);
    // Polled once at boot, then once after each delivery; never spun at a fixed time.
    expect(polls).toEqual([0, 1_000, 5_000, 9_000]);
  });

  it('two polling cores alone do not keep each other awake', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    let slices = 0;
    for (const core of m.cores) core.start({ runSlice: () => (slices++, 'poll') });
    const r = await sim.run({ maxSlices: 1000 });
    expect(r.reason).toBe('quiescent');
    expect(slices).toBe(2);
  });

  it('a busy slice of another core wakes a polling core; an interrupt wakes it at once', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    const log: string[] = [];
    m.cores[0].start({
      runSlice(c) {
        while (c.apic.nextPending() >= 0) log.push('irq');
        log.push('poll');
        return 'poll';
      },
    });
    let left = 2;
    m.cores[1].start({ runSlice: () => (log.push('work'), --left > 0 ? 'yield' : 'halt') });
    await sim.run();
    expect(log.filter((x) => x === 'work')).toHaveLength(2);
    // Every busy slice of core 1 is followed by core 0 looking again.
    const lastWork = log.lastIndexOf('work');
    expect(log.slice(lastWork + 1)).toContain('poll');
    sim.post(() => m.cores[0].apic.raise(0x40));
    await sim.run();
    expect(log.at(-2)).toBe('irq');
  });

  it('same seed gives a byte-identical trace; different seeds explore different interleavings', async () => {
    async function simulate(seed: number): Promise<{ json: string; log: string[] }> {
      const sim = new Simulation({ seed, trace: true });
      const log: string[] = [];
      for (let mi = 0; mi < 2; mi++) {
        const m = sim.createMachine({ cores: 3, memoryBytes: 4096 });
        for (const c of m.cores) {
          c.start(busyFor(4, log));
          c.apic.timerOneShot(1000 * (c.index + 1), 0x20);
        }
      }
      sim.trace.instant(99, 0, 'front-end', sim.now(), { note: 'x' });
      await sim.run();
      return { json: sim.trace.toJSON(), log };
    }
    const a = await simulate(5);
    const b = await simulate(5);
    expect(a.json).toBe(b.json);
    expect(a.log).toEqual(b.log);
    const parsed = JSON.parse(a.json) as { traceEvents: { ph: string; name: string; pid: number; ts: number }[] };
    expect(parsed.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.pid)).toEqual([1, 2]);
    expect(parsed.traceEvents.filter((e) => e.ph === 'X').length).toBe(24 + 6);
    const orders = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) orders.add((await simulate(seed)).log.join(','));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('two simulations running concurrently in one process keep the drain guarantee', async () => {
    let current: Core | null = null;
    let violations = 0;
    function program(): CoreProgram {
      let n = 0;
      return {
        runSlice(core) {
          current = core;
          void (async () => {
            await null;
            await null;
            if (current !== core) violations++;
          })();
          return ++n < 20 ? 'yield' : 'halt';
        },
      };
    }
    const sims = [1, 2].map((seed) => {
      const sim = new Simulation({ seed });
      for (const c of sim.createMachine({ cores: 2, memoryBytes: 4096 }).cores) c.start(program());
      return sim;
    });
    const results = await Promise.all(sims.map((s) => s.run()));
    expect(results.map((r) => r.slices)).toEqual([40, 40]);
    expect(violations).toBe(0);
  });
});

describe('Scheduler with a realtime clock', () => {
  it('a 20 ms timer fires after at least ~20 ms of wall time, then the run ends', async () => {
    const sim = new Simulation({ clock: 'realtime' });
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    let firedAt = -1;
    core.start({
      runSlice(c) {
        if (c.apic.nextPending() === 0x30) {
          firedAt = sim.now();
          sim.stop();
        }
        return 'halt';
      },
    });
    const wall0 = performance.now();
    core.apic.timerOneShot(20_000_000, 0x30);
    const r = await sim.run();
    const wallMs = performance.now() - wall0;
    expect(r.reason).toBe('stopped');
    expect(firedAt).toBeGreaterThanOrEqual(20_000_000);
    expect(wallMs).toBeGreaterThanOrEqual(19.5);
    expect(wallMs).toBeLessThan(1000);
  });

  it('ends when idle if asked, and an idle run is woken by post() from Node I/O', async () => {
    const sim = new Simulation({ clock: 'realtime' });
    const core = sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0];
    const got: number[] = [];
    core.start({
      runSlice(c) {
        for (let v = c.apic.nextPending(); v >= 0; v = c.apic.nextPending()) got.push(v);
        if (got.length === 2) sim.stop();
        return 'halt';
      },
    });
    sim.scheduleAfter(1_000_000, () => core.apic.raise(0x41));
    expect((await sim.run({ stopWhenIdle: true })).reason).toBe('quiescent');
    // Nothing scheduled: the run idles (no timer) until a "socket" posts a hardware event.
    setTimeout(() => sim.post(() => core.apic.raise(0x42)), 5);
    const r = await sim.run();
    expect(r.reason).toBe('stopped');
    expect(got).toEqual([0x41, 0x42]);
  });

  it('untilNs bounds a realtime run', async () => {
    const sim = new Simulation({ clock: 'realtime' });
    sim.createMachine({ cores: 1, memoryBytes: 4096 });
    const r = await sim.run({ untilNs: 5_000_000 });
    expect(r.reason).toBe('until');
    expect(r.finalTimeNs).toBeGreaterThanOrEqual(5_000_000);
  });
});

describe('leaving the CPU', () => {
  it('a program hears it left the CPU after its continuations drained and before anything else runs', async () => {
    const sim = new Simulation({ seed: 3 });
    const m = sim.createMachine({ cores: 2, memoryBytes: 4096 });
    const log: string[] = [];
    for (const core of m.cores) {
      let slices = 0;
      core.start({
        runSlice(c) {
          c.apic.nextPending();
          log.push(`slice ${c.index}`);
          void Promise.resolve().then(() => log.push(`continuation ${c.index}`));
          return ++slices < 2 ? 'yield' : 'halt';
        },
        leftCpu: (c) => log.push(`left ${c.index}`),
      });
    }
    sim.scheduleAfter(10, () => log.push('hardware'));
    await sim.run();
    // Every slice is followed by its continuation and then its leaving, before the next thing.
    for (let i = 0; i < log.length; i += 3) {
      if (log[i] === 'hardware') {
        i -= 2;
        continue;
      }
      const core = log[i]!.split(' ')[1];
      expect(log.slice(i, i + 3)).toEqual([`slice ${core}`, `continuation ${core}`, `left ${core}`]);
    }
    expect(log.filter((l) => l.startsWith('left'))).toHaveLength(4);
    expect(log.at(-1)).toBe('hardware');
  });
});
