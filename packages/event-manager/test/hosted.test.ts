import { afterEach, describe, expect, it } from 'vitest';
import { cpu } from '@ebbrt/core-translation';
import { UsageError, type EventFailure } from '@ebbrt/interfaces';
import { here, hostedNode, macrotasks, until, type HostedFixture } from './fixtures.js';

let current: HostedFixture | undefined;
function node(cores = 2, options = {}): HostedFixture {
  current = hostedNode(cores, options);
  return current;
}
afterEach(() => {
  current?.root.shutdown();
  current = undefined;
});

describe('hosted Event Manager (logical cores on Node’s loop)', () => {
  it('await keeps events on their core: awaits, Timer.sleep and a cross-core CorePromise', async () => {
    const f = node(2);
    const wrong: string[] = [];
    let done = 0;
    const check = (k: number, where: string) => {
      if (here() !== k || f.em().core !== k || cpu.current !== f.node.core(k)) wrong.push(`core ${k}: on ${here()} ${where}`);
    };
    for (let k = 0; k < 2; k++) {
      f.post(k, () => {
        for (let i = 0; i < 20; i++) {
          f.em().spawn(
            async () => {
              check(k, 'start');
              await undefined;
              await Promise.resolve();
              check(k, 'after awaits');
              await f.timer().sleep(i % 3 === 0 ? 1000 : 0);
              check(k, 'after sleep');
              const p = f.em().promise<number>();
              f.em().spawnRemote(() => {
                if (here() !== 1 - k) wrong.push('resolver on wrong core');
                p.resolve(i);
              }, 1 - k);
              expect(await p.promise).toBe(i);
              check(k, 'after cross-core promise');
              done++;
            },
            { async: i % 2 === 0 },
          );
        }
      });
    }
    await until(() => done === 40);
    expect(wrong).toEqual([]);
  });

  it('sync spawn hands back when the event blocks; async spawn is FIFO; ids increase; counters exact', async () => {
    const f = node(2);
    const log: string[] = [];
    const ids: number[] = [];
    let finished = false;
    f.post(0, () => {
      const em = f.em();
      const parent = em.currentEventId();
      const gate = em.promise<void>();
      em.spawn(async () => {
        log.push('child');
        await gate.promise;
        log.push('child resumed');
      });
      log.push(`parent after, id restored: ${em.currentEventId() === parent}`);
      for (let i = 0; i < 10; i++) em.spawn(() => (log.push(`task ${i}`), ids.push(em.currentEventId())), { async: true });
      em.spawn(() => gate.resolve(), { async: true });
      em.spawnRemote(() => {
        log.push(`remote on ${here()}`);
        finished = true;
      }, 1);
    });
    await until(() => finished && log.includes('child resumed'));
    expect(log.slice(0, 2)).toEqual(['child', 'parent after, id restored: true']);
    expect(log.filter((l) => l.startsWith('task'))).toEqual(Array.from({ length: 10 }, (_, i) => `task ${i}`));
    expect(log.indexOf('child resumed')).toBeGreaterThan(log.indexOf('task 9'));
    expect(log).toContain('remote on 1');
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    // 1 posted + 1 child + 10 tasks + 1 gate on core 0; 1 remote on core 1.
    expect(f.root.totalEvents()).toBe(14);
  });

  it('interrupts raised on a hosted core run before queued tasks', async () => {
    const f = node(2);
    const order: string[] = [];
    f.post(1, () => {
      const v = f.em().allocateVector(() => order.push(`irq on ${here()}`));
      f.em().spawn(() => order.push('task'), { async: true });
      f.root.raise(1, v);
    });
    await until(() => order.length === 2);
    expect(order).toEqual(['irq on 1', 'task']);
  });

  it('idle callback: only when no task is queued, one per core, stop ends it', async () => {
    const f = node(2);
    const order: string[] = [];
    const errors: unknown[] = [];
    let idles = 0;
    let handle: { stop(): void } | undefined;
    f.post(0, () => {
      const em = f.em();
      handle = em.setIdleCallback(() => {
        idles++;
        if (idles === 1) order.push('idle');
      });
      try {
        em.setIdleCallback(() => {});
      } catch (e) {
        errors.push(e);
      }
      for (let i = 0; i < 3; i++) em.spawn(() => order.push(`task ${i}`), { async: true });
    });
    await until(() => idles > 20);
    expect(order).toEqual(['task 0', 'task 1', 'task 2', 'idle']);
    expect(errors[0]).toBeInstanceOf(UsageError);
    f.post(0, () => handle!.stop());
    await macrotasks(5);
    const stoppedAt = idles;
    await macrotasks(20);
    expect(idles).toBe(stoppedAt);
  });

  it('timers fire in deadline order after at least their delay; repeat timers repeat; stop prevents firing', async () => {
    const f = node(2);
    const fired: string[] = [];
    const late: number[] = [];
    let ticks = 0;
    f.post(1, () => {
      const t = f.timer();
      const t0 = t.now();
      const at = (name: string, us: number) =>
        t.start(() => {
          fired.push(`${name}@${here()}`);
          late.push(t.now() - t0 - us);
        }, us);
      at('c', 30_000);
      at('a', 5_000);
      at('b', 15_000);
      const x = at('x', 10_000);
      t.stop(x);
      const r = t.start(() => {
        if (++ticks === 3) r.stop();
      }, 2_000, true);
    });
    await until(() => fired.length === 3 && ticks === 3);
    expect(fired).toEqual(['a@1', 'b@1', 'c@1']);
    for (const l of late) expect(l).toBeGreaterThanOrEqual(-1000); // setTimeout has ms granularity
    await new Promise((r) => setTimeout(r, 15));
    expect(ticks).toBe(3);
  });

  it('reports failures with node, core and event id and keeps running', async () => {
    const f = node(2);
    const failures: EventFailure[] = [];
    f.root.onEventFailure((x) => failures.push(x));
    let ran = false;
    let id = 0;
    f.post(1, () => {
      id = f.em().currentEventId();
      throw new Error('hosted boom');
    });
    f.post(1, async () => {
      await null;
      throw new Error('hosted async boom');
    });
    f.post(1, () => {
      ran = true;
    });
    await until(() => ran && failures.length === 2);
    expect(failures[0]).toMatchObject({ node: 0, core: 1, eventId: id });
    expect((failures[1]!.error as Error).message).toBe('hosted async boom');
  });

  it('shutdown stops every core: nothing runs afterwards', async () => {
    const f = node(2);
    let idles = 0;
    let late = 0;
    f.post(0, () => void f.em().setIdleCallback(() => idles++));
    await until(() => idles > 5);
    f.root.shutdown();
    const at = idles;
    f.post(1, () => late++);
    await macrotasks(20);
    expect(idles).toBe(at);
    expect(late).toBe(0);
  });

  it('post to a core that does not exist throws RangeError', () => {
    const f = node(2);
    expect(() => f.post(2, () => {})).toThrow(RangeError);
    expect(() => f.root.raise(-1, 40)).toThrow(RangeError);
  });
});
