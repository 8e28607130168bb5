import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TimerHandle } from '@ebbrt/interfaces';
import { here, nativeNode } from './fixtures.js';

describe('native Timer', () => {
  it('fires one-shot timers in virtual-time order, on the starting core', async () => {
    const f = nativeNode({ cores: 2 });
    const fired: [string, number, number][] = [];
    f.post(1, () => {
      const t = f.timer();
      for (const [name, us] of [['c', 300], ['a', 100], ['b', 200], ['a2', 100], ['z', 0]] as const) {
        t.start(() => fired.push([name, f.sim.now(), here()]), us);
      }
    });
    await f.sim.run();
    expect(fired).toEqual([
      ['z', 0, 1],
      ['a', 100_000, 1],
      ['a2', 100_000, 1],
      ['b', 200_000, 1],
      ['c', 300_000, 1],
    ]);
  });

  it('a repeating timer fires at exact multiples of its period over many periods', async () => {
    const f = nativeNode({ cores: 2, seed: 3 });
    const times: number[] = [];
    const t0: number[] = [];
    f.post(0, () => {
      // Some unrelated traffic on the other core, to perturb the interleaving.
      for (let i = 0; i < 50; i++) f.em().spawnRemote(() => f.timer().start(() => {}, i * 37), 1);
      t0.push(f.sim.now());
      let handle: TimerHandle | undefined = undefined;
      handle = f.timer().start(() => {
        times.push(f.sim.now());
        if (times.length === 1000) handle!.stop();
      }, 250, true);
    });
    const r = await f.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(times).toHaveLength(1000);
    times.forEach((t, i) => expect(t).toBe(t0[0]! + (i + 1) * 250_000));
  });

  it('a background timer ticks while a foreground timer of the core is pending (even a later one), then lets the run end', async () => {
    const f = nativeNode({ cores: 2 });
    const ticks: number[] = [];
    const done: number[] = [];
    let watchdog: TimerHandle | undefined;
    f.post(0, () => {
      watchdog = f.timer().start(() => ticks.push(f.sim.now()), 100, true, { background: true });
      // The foreground one-shot is later than every tick, so the earliest timer is always the
      // background one; the core's deadline must still keep the run alive until 450 µs.
      f.timer().start(() => done.push(f.sim.now()), 450);
    });
    const r = await f.sim.run();
    expect(r).toMatchObject({ reason: 'quiescent', finalTimeNs: 450_000 });
    expect(done).toEqual([450_000]);
    expect(ticks).toEqual([100_000, 200_000, 300_000, 400_000]);
    expect(watchdog!.active).toBe(true);
    // Stopping the foreground timer early ends the run at that moment, ticks and all.
    const early: number[] = [];
    f.post(1, () => {
      const h = f.timer().start(() => early.push(f.sim.now()), 10_000);
      f.timer().start(() => h.stop(), 250);
    });
    const r2 = await f.sim.run();
    expect(early).toEqual([]);
    expect(r2.finalTimeNs).toBe(450_000 + 250_000);
    expect(ticks.slice(4)).toEqual([500_000, 600_000, 700_000]);
  });

  it('fractional microseconds round to nanoseconds and the period never drifts', async () => {
    const f = nativeNode();
    const times: number[] = [];
    f.post(0, () => {
      const h = f.timer().start(() => {
        times.push(f.sim.now());
        if (times.length === 10) h.stop();
      }, 0.3333, true);
    });
    await f.sim.run();
    expect(times).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 333));
  });

  it('a stopped timer never fires, also when stopped by a hook due at the same instant', async () => {
    const f = nativeNode();
    const fired: string[] = [];
    const active: boolean[] = [];
    f.post(0, () => {
      const t = f.timer();
      let b: TimerHandle | undefined;
      t.start(() => {
        fired.push('a');
        b!.stop();
        active.push(b!.active);
        b!.stop(); // stopping a stopped timer is a no-op
      }, 100);
      b = t.start(() => fired.push('b'), 100);
      const c = t.start(() => fired.push('c'), 50);
      t.stop(c);
      const rep = t.start(() => fired.push('rep'), 10, true);
      t.start(() => rep.stop(), 35); // after fires at 10, 20, 30
      active.push(c.active, b.active);
    });
    await f.sim.run();
    expect(fired).toEqual(['rep', 'rep', 'rep', 'a']);
    expect(active).toEqual([false, true, false]);
  });

  it('validates start arguments and handles', async () => {
    const f = nativeNode();
    const errors: unknown[] = [];
    f.post(0, () => {
      const t = f.timer();
      const attempts: (() => unknown)[] = [
        () => t.start('nope' as unknown as () => void, 1),
        () => t.start(() => {}, -1),
        () => t.start(() => {}, Number.NaN),
        () => t.start(() => {}, Infinity),
        () => t.start(() => {}, 0, true),
        () => t.start(() => {}, 0.0001, true),
        () => t.stop({ stop() {}, active: true }),
      ];
      for (const a of attempts) {
        try {
          a();
          errors.push('no error');
        } catch (e) {
          errors.push(e);
        }
      }
    });
    await f.sim.run();
    expect(errors.map((e) => (e as Error).constructor.name)).toEqual([
      'TypeError',
      'RangeError',
      'RangeError',
      'RangeError',
      'RangeError',
      'RangeError',
      'TypeError',
    ]);
  });

  it('sleep resolves after the delay on the sleeping core; now() is virtual microseconds', async () => {
    const f = nativeNode({ cores: 2 });
    const seen: [number, number, number][] = [];
    f.post(1, async () => {
      const start = f.timer().now();
      await f.timer().sleep(1234);
      seen.push([here(), f.timer().now() - start, f.sim.now()]);
    });
    await f.sim.run();
    expect(seen).toEqual([[1, 1234, 1_234_000]]);
  });

  it('property: random start/stop schedules fire exactly the un-stopped hooks at their deadlines, in (deadline, start order)', async () => {
    const timerSpec = fc.record({
      startAt: fc.integer({ min: 0, max: 400 }),
      delay: fc.integer({ min: 0, max: 400 }),
      stopAt: fc.option(fc.integer({ min: 0, max: 900 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(timerSpec, { maxLength: 30 }), fc.integer({ min: 0, max: 1 }), async (specs, core) => {
        const f = nativeNode({ cores: 2, seed: specs.length + 1 });
        const fired: [number, number][] = [];
        f.post(core, () => {
          const t = f.timer();
          const handles: (TimerHandle | undefined)[] = specs.map(() => undefined);
          // Starters first, then stoppers, all at time 0: at an equal instant a
          // starter runs before a stopper, both before any real hook.
          specs.forEach((s, i) =>
            t.start(() => {
              handles[i] = t.start(() => fired.push([i, f.sim.now()]), s.delay);
            }, s.startAt),
          );
          specs.forEach((s, i) => {
            if (s.stopAt !== undefined) t.start(() => handles[i]?.stop(), s.stopAt);
          });
        });
        await f.sim.run();
        // Reference model.
        const startOrder = specs.map((_, i) => i).sort((a, b) => specs[a]!.startAt - specs[b]!.startAt || a - b);
        const seq = new Map(startOrder.map((i, n) => [i, n]));
        const expected = specs
          .map((s, i) => ({ i, deadline: s.startAt + s.delay, s }))
          .filter(({ s, deadline }) => !(s.stopAt !== undefined && s.startAt <= s.stopAt && s.stopAt <= deadline))
          .sort((a, b) => a.deadline - b.deadline || seq.get(a.i)! - seq.get(b.i)!)
          .map(({ i, deadline }) => [i, deadline * 1000]);
        expect(fired).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});
