import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { cpu, currentCore } from '@ebbrt/core-translation';
import { SystemEbbIds, UsageError, type EventFailure, type EventManager } from '@ebbrt/interfaces';
import { REMOTE_EVENT_VECTOR, type WatchdogReport } from '../src/index.js';
import { forEachSeed, here, nativeNode, refs, type NativeFixture } from './fixtures.js';

/** The rep of `core`, read from outside any event (after it has been faulted in). */
function repOf(f: NativeFixture, core: number): EventManager {
  return f.node.core(core).translation.get(SystemEbbIds.EventManager) as EventManager;
}

describe('native: await keeps the event on its core', () => {
  for (const cores of [2, 4]) {
    it(`stays on core k after awaits, Timer.sleep and a cross-core CorePromise (${cores} cores, 20 seeds)`, async () => {
      await forEachSeed(20, async (seed) => {
        const f = nativeNode({ seed, cores });
        const perCore = 25;
        const wrong: string[] = [];
        let done = 0;
        const check = (k: number, where: string) => {
          const em = f.em();
          if (here() !== k || em.core !== k || cpu.current !== f.node.core(k)) {
            wrong.push(`event on core ${k} found itself on core ${here()} (rep ${em.core}) ${where}`);
          }
        };
        for (let k = 0; k < cores; k++) {
          f.post(k, () => {
            for (let i = 0; i < perCore; i++) {
              f.em().spawn(
                async () => {
                  check(k, 'at start');
                  await undefined;
                  check(k, 'after await 1');
                  await Promise.resolve(i);
                  await null;
                  check(k, 'after await 3');
                  await f.timer().sleep(((seed * 7 + k * 13 + i * 29) % 50) + 1);
                  check(k, 'after sleep');
                  const p = f.em().promise<number>();
                  const other = (k + 1 + (i % (cores - 1))) % cores;
                  f.em().spawnRemote(() => {
                    if (here() !== other) wrong.push(`remote resolver ran on ${here()} not ${other}`);
                    p.resolve(i);
                  }, other);
                  const v = await p.promise;
                  if (v !== i) wrong.push(`promise value ${v} !== ${i}`);
                  check(k, 'after cross-core promise');
                  await f.timer().sleep(1);
                  check(k, 'after second sleep');
                  done++;
                },
                { async: i % 2 === 0 },
              );
            }
          });
        }
        const result = await f.sim.run();
        expect(result.reason).toBe('quiescent');
        expect(wrong).toEqual([]);
        expect(done).toBe(cores * perCore);
      });
    });
  }

  it('a CorePromise rejected from another core rejects on the owner core', async () => {
    const f = nativeNode({ cores: 2 });
    const seen: number[] = [];
    f.post(0, async () => {
      const p = f.em().promise<void>();
      f.em().spawnRemote(() => p.reject(new Error('no')), 1);
      await expect(p.promise).rejects.toThrow('no');
      seen.push(here());
    });
    await f.sim.run();
    expect(seen).toEqual([0]);
  });
});

describe('native: per-core counters', () => {
  it('getNumCore/getNumNode count exactly the events spawned (async, sync, remote)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ a: fc.nat(40), s: fc.nat(40), r: fc.nat(40) }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        async (cores, plan, seed) => {
          const f = nativeNode({ seed, cores, timer: false });
          const noop = () => {};
          for (let k = 0; k < cores; k++) {
            const { a, s, r } = plan[k]!;
            // One boot event per core, counted below.
            f.post(k, () => {
              const em = f.em();
              for (let i = 0; i < Math.max(a, s, r); i++) {
                if (i < a) em.spawn(noop, { async: true });
                if (i < s) em.spawn(noop);
                if (i < r) em.spawnRemote(noop, (k + 1) % cores);
              }
            });
          }
          await f.sim.run();
          let total = 0;
          for (let k = 0; k < cores; k++) {
            const { a, s } = plan[k]!;
            const received = plan[(k - 1 + cores) % cores]!.r;
            const expected = 1 + a + s + received;
            expect(repOf(f, k).getNumCore()).toBe(expected);
            total += expected;
          }
          expect(repOf(f, 0).getNumNode()).toBe(total);
          expect(f.root.totalEvents()).toBe(total);
          await expect(repOf(f, cores - 1).getNum()).resolves.toBe(total);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('interrupt handlers count as events; the remote-event IPI itself does not', async () => {
    const f = nativeNode({ cores: 2, timer: false });
    f.post(0, () => {
      const v = f.em().allocateVector(() => {});
      f.machine.cores[0]!.apic.raise(v);
    });
    await f.sim.run();
    expect(repOf(f, 0).getNumCore()).toBe(2); // the posted event + the vector handler
  });
});

describe('native: loop order', () => {
  it('runs a pending interrupt before an already-queued task', async () => {
    const f = nativeNode({ timer: false });
    const order: string[] = [];
    f.post(0, () => {
      const em = f.em();
      const v = em.allocateVector(() => order.push(`irq on ${here()}`));
      em.spawn(() => order.push('task 1'), { async: true });
      em.spawn(() => order.push('task 2'), { async: true });
      f.machine.cores[0]!.apic.raise(v);
      order.push('event end');
    });
    await f.sim.run();
    expect(order).toEqual(['event end', 'irq on 0', 'task 1', 'task 2']);
  });

  it('higher vectors are delivered first, all before the next task', async () => {
    const f = nativeNode({ timer: false });
    const order: string[] = [];
    f.post(0, () => {
      const em = f.em();
      const lo = em.allocateVector(() => order.push('lo'));
      const hi = em.allocateVector(() => order.push('hi'));
      expect(hi).toBeGreaterThan(lo);
      em.spawn(() => order.push('task'), { async: true });
      f.machine.cores[0]!.apic.raise(lo);
      f.machine.cores[0]!.apic.raise(hi);
    });
    await f.sim.run();
    expect(order).toEqual(['hi', 'lo', 'task']);
  });

  it('freeVector releases a vector; freeing an unallocated one throws', async () => {
    const f = nativeNode({ timer: false });
    const errors: unknown[] = [];
    f.post(0, () => {
      const em = f.em();
      const v = em.allocateVector(() => {});
      em.freeVector(v);
      expect(em.allocateVector(() => {})).toBe(v);
      try {
        em.freeVector(REMOTE_EVENT_VECTOR);
      } catch (e) {
        errors.push(e);
      }
    });
    await f.sim.run();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RangeError);
  });

  it('runs the idle callback only when no task is queued', async () => {
    const f = nativeNode({ timer: false });
    const order: string[] = [];
    f.post(0, () => {
      const em = f.em();
      let n = 0;
      const handle = em.setIdleCallback(() => {
        n++;
        order.push(`idle ${n}`);
        if (n === 1) em.spawn(() => order.push('spawned by idle'), { async: true });
        if (n === 2) handle.stop();
      });
      for (let i = 1; i <= 3; i++) em.spawn(() => order.push(`task ${i}`), { async: true });
    });
    await f.sim.run();
    expect(order).toEqual(['task 1', 'task 2', 'task 3', 'idle 1', 'spawned by idle', 'idle 2']);
  });

  it('a second idle callback on the same core throws UsageError; another core may have one', async () => {
    const f = nativeNode({ timer: false });
    const errors: unknown[] = [];
    const handles: { stop(): void }[] = [];
    f.post(0, () => {
      handles.push(f.em().setIdleCallback(() => {}));
      try {
        f.em().setIdleCallback(() => {});
      } catch (e) {
        errors.push(e);
      }
      f.em().spawnRemote(() => handles.push(f.em().setIdleCallback(() => {})), 1);
    });
    await f.sim.run({ maxSlices: 50 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UsageError);
    expect(handles).toHaveLength(2);
  });

  it('a polling core is re-run after other activity; once its idle callback stops, the core halts', async () => {
    const f = nativeNode({ timer: false });
    let idles = 0;
    let handle: { stop(): void } | undefined;
    f.post(0, () => {
      handle = f.em().setIdleCallback(() => idles++);
    });
    await f.sim.run();
    // Core 1 does work; each busy slice lets the polling core look again.
    for (let i = 0; i < 20; i++) f.post(1, () => {});
    await f.sim.run();
    expect(idles).toBeGreaterThan(1);
    f.post(0, () => handle!.stop());
    await f.sim.run();
    const before = idles;
    const eventsBefore = repOf(f, 0).getNumCore();
    for (let i = 0; i < 20; i++) f.post(1, () => {});
    const r = await f.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(idles).toBe(before);
    expect(repOf(f, 0).getNumCore()).toBe(eventsBefore);
    expect(f.machine.cores[0]!.state).toBe('halted');
  });

  it('an idle-polling core does not hold virtual time still', async () => {
    const f = nativeNode({ cores: 2 });
    let idles = 0;
    const fired: number[] = [];
    f.post(0, () => {
      f.em().setIdleCallback(() => idles++); // never stopped
    });
    f.post(1, () => {
      f.timer().start(() => fired.push(f.sim.now()), 1000);
      f.timer().start(() => fired.push(f.sim.now()), 2500);
    });
    const r = await f.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(fired).toEqual([1_000_000, 2_500_000]);
    expect(r.finalTimeNs).toBe(2_500_000);
    expect(idles).toBeGreaterThan(0);
    expect(idles).toBeLessThan(1000);
  });
});

describe('native: spawn semantics', () => {
  it('a sync spawn runs now and hands back when the event blocks', async () => {
    const f = nativeNode({ timer: false });
    const log: string[] = [];
    f.post(0, () => {
      const em = f.em();
      const gate = em.promise<void>();
      log.push('parent before');
      em.spawn(async () => {
        log.push('child runs now');
        await gate.promise;
        log.push(`child resumed on ${here()}`);
      });
      log.push('parent after (child blocked)');
      em.spawn(() => {
        log.push('async task');
        gate.resolve();
      }, { async: true });
      log.push('parent end');
    });
    await f.sim.run();
    expect(log).toEqual([
      'parent before',
      'child runs now',
      'parent after (child blocked)',
      'parent end',
      'async task',
      'child resumed on 0',
    ]);
  });

  it('async spawns run FIFO after the spawning event', async () => {
    const f = nativeNode({ timer: false, options: { sliceBudget: 7 } });
    const order: number[] = [];
    f.post(0, () => {
      for (let i = 0; i < 500; i++) f.em().spawn(() => order.push(i), { async: true });
      order.push(-1);
    });
    await f.sim.run();
    expect(order).toEqual([-1, ...Array.from({ length: 500 }, (_, i) => i)]);
  });

  it('spawnRemote runs the event on the target core, delivered by the remote-event IPI', async () => {
    const f = nativeNode({ cores: 4, timer: false });
    const raise = vi.spyOn(f.machine.cores[2]!.apic, 'raise');
    const ran: number[] = [];
    f.post(0, () => {
      raise.mockClear(); // ignore the boot post's own raise on core 0 (not this spy anyway)
      f.em().spawnRemote(() => ran.push(here()), 2);
      expect(raise).toHaveBeenCalledWith(REMOTE_EVENT_VECTOR);
      expect(ran).toEqual([]); // not run synchronously on the sender
    });
    await f.sim.run();
    expect(ran).toEqual([2]);
    expect(repOf(f, 2).getNumCore()).toBe(1);
  });

  it('spawnRemote to a core that does not exist throws RangeError', async () => {
    const f = nativeNode({ cores: 2, timer: false });
    const errors: unknown[] = [];
    f.post(0, () => {
      try {
        f.em().spawnRemote(() => {}, 5);
      } catch (e) {
        errors.push(e);
      }
    });
    await f.sim.run();
    expect(errors[0]).toBeInstanceOf(RangeError);
  });

  it('event ids increase per core', async () => {
    const f = nativeNode({ cores: 3, timer: false, seed: 9 });
    const ids: number[][] = [[], [], []];
    for (let k = 0; k < 3; k++) {
      f.post(k, () => {
        const em = f.em();
        for (let i = 0; i < 50; i++) {
          const rec = () => ids[here()]!.push(f.em().currentEventId());
          if (i % 3 === 0) em.spawn(rec, { async: true });
          else if (i % 3 === 1) em.spawn(rec);
          else em.spawnRemote(rec, (k + 1) % 3);
        }
      });
    }
    await f.sim.run();
    for (const list of ids) {
      expect(list.length).toBeGreaterThan(40);
      for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!);
    }
  });

  it("nested sync spawns restore the parent's currentEventId, also when the child blocks", async () => {
    const f = nativeNode({ timer: false });
    const seen: Record<string, number> = {};
    f.post(0, () => {
      const em = f.em();
      seen.parent = em.currentEventId();
      em.spawn(() => {
        seen.child = em.currentEventId();
        em.spawn(() => {
          seen.grandchild = em.currentEventId();
        });
        seen.childAfter = em.currentEventId();
      });
      seen.parentAfterChild = em.currentEventId();
      em.spawn(async () => {
        seen.blocker = em.currentEventId();
        await new Promise<void>(() => {}); // blocks forever
      });
      seen.parentAfterBlocker = em.currentEventId();
    });
    await f.sim.run();
    expect(seen.parent).toBeGreaterThan(0);
    expect(seen.child).toBeGreaterThan(seen.parent!);
    expect(seen.grandchild).toBeGreaterThan(seen.child!);
    expect(seen.childAfter).toBe(seen.child);
    expect(seen.parentAfterChild).toBe(seen.parent);
    expect(seen.blocker).toBeGreaterThan(seen.grandchild!);
    expect(seen.parentAfterBlocker).toBe(seen.parent);
  });
});

describe('native: failures', () => {
  it('reports throwing and rejecting events with node, core and event id, and keeps running', async () => {
    const f = nativeNode({ cores: 2, timer: false });
    const failures: EventFailure[] = [];
    f.root.onEventFailure((x) => failures.push(x));
    const ids: Record<string, number> = {};
    const after: number[] = [];
    f.post(1, () => {
      const em = f.em();
      em.spawn(
        () => {
          ids.thrower = em.currentEventId();
          throw new Error('boom');
        },
        { async: true },
      );
      em.spawn(async () => {
        ids.rejecter = em.currentEventId();
        await Promise.resolve();
        throw new Error('async boom');
      });
      em.spawn(() => after.push(here()), { async: true });
    });
    f.post(0, () => after.push(here()));
    const r = await f.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(after.sort()).toEqual([0, 1]);
    expect(failures).toHaveLength(2);
    const byMsg = new Map(failures.map((x) => [(x.error as Error).message, x]));
    expect(byMsg.get('boom')).toMatchObject({ node: 1, core: 1, eventId: ids.thrower });
    expect(byMsg.get('async boom')).toMatchObject({ node: 1, core: 1, eventId: ids.rejecter });
    expect(f.root.reports.failures).toBe(2);
  });

  it('without a listener a failure is logged to the node console', async () => {
    const f = nativeNode({ timer: false });
    f.post(0, () => {
      throw new Error('unheard');
    });
    await f.sim.run();
    expect(f.logs.some((l) => l.includes('core 0: event #') && l.includes('unheard'))).toBe(true);
  });
});

describe('native: watchdog', () => {
  it('reports an event that runs past its budget without killing it; a fast event is not reported', async () => {
    const f = nativeNode({ timer: false, options: { watchdogBudgetUs: 2000 } });
    const reports: WatchdogReport[] = [];
    f.root.onWatchdog((r) => reports.push(r));
    let slowId = 0;
    let slowFinished = false;
    let fastRan = false;
    f.post(0, function slow() {
      slowId = f.em().currentEventId();
      const end = performance.now() + 5;
      while (performance.now() < end) {
        /* spin ~5 ms */
      }
      slowFinished = true;
    });
    f.post(0, () => {
      fastRan = true;
    });
    await f.sim.run();
    expect(slowFinished).toBe(true);
    expect(fastRan).toBe(true);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ node: 1, core: 0, eventId: slowId, name: 'slow', budgetUs: 2000 });
    expect(reports[0]!.elapsedUs).toBeGreaterThanOrEqual(5000);
    expect(f.logs.some((l) => l.includes('watchdog'))).toBe(true);
  });

  for (const stepping of ['chained', 'macrotask'] as const) {
    it(`a slow watchdog listener is not billed to the next event (${stepping} stepping)`, async () => {
      // Back-to-back events share clock reads; the report in between must not count as the
      // next event's time, or one slow event gets every event after it reported.
      const f = nativeNode({ timer: false, stepping, options: { watchdogBudgetUs: 2000 } });
      const reports: WatchdogReport[] = [];
      f.root.onWatchdog((r) => {
        reports.push(r);
        const end = performance.now() + 5;
        while (performance.now() < end) {
          /* a listener that takes ~5 ms (a console on a slow pipe, a dashboard push) */
        }
      });
      const ran: string[] = [];
      f.post(0, function slow() {
        const end = performance.now() + 5;
        while (performance.now() < end) {
          /* spin ~5 ms */
        }
        ran.push('slow');
      });
      f.post(0, function fast1() {
        ran.push('fast1');
      });
      f.post(0, function fast2() {
        ran.push('fast2');
      });
      await f.sim.run();
      expect(ran).toEqual(['slow', 'fast1', 'fast2']);
      expect(reports.map((r) => r.name)).toEqual(['slow']);
      expect(f.logs.filter((l) => l.includes('watchdog'))).toHaveLength(1);
    });
  }
});

describe('native: idle handles and shutdown', () => {
  it('a stale idle handle does not stop a later install of the same callback', async () => {
    const f = nativeNode({ timer: false });
    let idles = 0;
    const idle = () => idles++;
    let stale: { stop(): void } | undefined;
    f.post(0, () => {
      stale = f.em().setIdleCallback(idle);
      stale.stop();
      f.em().setIdleCallback(idle);
      stale.stop(); // must not remove the second install
    });
    await f.sim.run();
    const before = idles;
    for (let i = 0; i < 10; i++) f.post(1, () => {});
    await f.sim.run();
    expect(idles).toBeGreaterThan(before);
  });

  it('shutdown stops every core', async () => {
    const f = nativeNode({ timer: false });
    let ran = 0;
    f.post(0, () => ran++);
    await f.sim.run();
    f.root.shutdown();
    f.post(0, () => ran++);
    f.post(1, () => ran++);
    const r = await f.sim.run();
    expect(r.reason).toBe('quiescent');
    expect(ran).toBe(1);
    expect(f.machine.cores.map((c) => c.state)).toEqual(['off', 'off']);
  });
});

describe('off the CPU', () => {
  it('no core is current outside a slice, so a promise settled by hardware resumes through its owner core', async () => {
    const f = nativeNode({ cores: 2 });
    const { em } = refs();
    const seen: string[] = [];
    let settle: (() => void) | undefined;
    f.post(1, async () => {
      const wait = em.deref().promise<number>();
      settle = () => {
        // A hardware callback: it runs between slices, with no core current.
        seen.push(`hardware sees core ${String(cpu.current?.index)}`);
        wait.resolve(7);
      };
      const before = em.deref().getNumCore();
      const value = await wait.promise;
      // The settlement travelled as an event on core 1, and the continuation runs there.
      seen.push(`resumed with ${value} on core ${currentCore().index}, events ${em.deref().getNumCore() - before}`);
    });
    await f.sim.run();
    expect(cpu.current).toBeUndefined();
    f.sim.scheduleAfter(1_000, () => settle!());
    await f.sim.run();
    expect(seen).toEqual(['hardware sees core undefined', 'resumed with 7 on core 1, events 1']);
  });
});
