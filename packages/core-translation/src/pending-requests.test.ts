import { SystemEbbIds, type CoreInfo, type CorePromise, type EbbRoot, type TimerHandle } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { cpu, runOnCore } from './cpu.js';
import { EbbRef } from './ebb-ref.js';
import type { NodeContext } from './node-context.js';
import { PendingRequests, type PendingRequestsOptions } from './pending-requests.js';
import { makeNode } from '../test/fixtures.js';

/**
 * A minimal stand-in for the Event Manager and Timer Ebbs (core-translation cannot depend on
 * @ebbrt/event-manager): spawnRemote and cross-core settlements queue events that `drain()` runs
 * on their core; timers fire when the test says so.
 */
class World {
  readonly node: NodeContext;
  readonly events: { core: number; fn: () => void }[] = [];
  readonly timers: { core: number; us: number; hook: () => void; handle: TimerHandle & { active: boolean } }[] = [];

  constructor(numCores = 2, withTimer = true) {
    this.node = makeNode(1, numCores);
    const post = (core: number, fn: () => void): void => void this.events.push({ core, fn });
    const em: EbbRoot<unknown> = {
      handleFault: (core: CoreInfo) => ({
        spawnRemote: (fn: () => void, to: number) => post(to, fn),
        promise: <T>(): CorePromise<T> => {
          const owner = this.node.core(core.index);
          let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
          const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
          promise.catch(() => undefined); // the tests look at rejections later
          const on = (fn: () => void): void => (cpu.current === owner ? fn() : post(owner.index, fn));
          return { promise, resolve: (v) => on(() => settle.resolve(v)), reject: (e) => on(() => settle.reject(e)) };
        },
      }),
    };
    this.node.install(SystemEbbIds.EventManager, em);
    if (withTimer) {
      this.node.install(SystemEbbIds.Timer, {
        handleFault: (core: CoreInfo) => ({
          start: (hook: () => void, us: number) => {
            const handle = { active: true, stop: () => void (handle.active = false) };
            this.timers.push({ core: core.index, us, hook, handle });
            return handle;
          },
        }),
      });
    }
  }

  on<R>(core: number, fn: () => R): R {
    return runOnCore(this.node.core(core), fn);
  }

  drain(): void {
    for (let e = this.events.shift(); e !== undefined; e = this.events.shift()) this.on(e.core, e.fn);
  }

  fire(i: number): void {
    const t = this.timers[i]!;
    if (!t.handle.active) return;
    t.handle.active = false;
    this.on(t.core, t.hook);
  }
}

/** A rep with a table, installed as the Ebb that owns it (for forwarding). */
const REQUESTER = 0x1234;
const requesterRef = new EbbRef<{ table: PendingRequests<string, string, Uint8Array> }>(REQUESTER);

function setUp(options: Partial<PendingRequestsOptions<string, string, Uint8Array>> = {}, world = new World()) {
  const stats = { stray: 0, forwarded: 0 };
  const tables: PendingRequests<string, string, Uint8Array>[] = [];
  world.node.install(REQUESTER, {
    handleFault: (core: CoreInfo) => {
      const table = new PendingRequests<string, string, Uint8Array>(world.node.core(core.index), {
        here: () => requesterRef.deref().table,
        reply: (bytes, op) => {
          if (bytes[0] === 0) throw new Error(`${op} failed remotely`);
          return `${op}: ${new TextDecoder().decode(bytes.subarray(1))}`;
        },
        stray: () => void stats.stray++,
        forwarded: () => void stats.forwarded++,
        ...options,
      });
      tables[core.index] = table;
      return { table };
    },
  });
  const table = (core: number) => world.on(core, () => requesterRef.deref().table);
  return { world, stats, table, tables };
}

const ok = (text: string): Uint8Array => Uint8Array.of(1, ...new TextEncoder().encode(text));

describe('PendingRequests', () => {
  it('numbers requests per core, settles a reply on the asking core and forgets it', async () => {
    const { world, stats, table } = setUp();
    const ids: number[] = [];
    const send = (id: number) => void ids.push(id);
    const a = world.on(0, () => table(0).request('get(a)', send));
    const b = world.on(0, () => table(0).request('get(b)', send));
    const c = world.on(1, () => table(1).request('get(c)', send));
    expect(ids).toEqual([1, 2, 1]);
    expect(table(0).size).toBe(2);
    world.on(0, () => table(0).deliver(0, 2, ok('B')));
    world.on(0, () => table(0).deliver(0, 1, ok('A')));
    world.on(1, () => table(1).deliver(1, 1, ok('C')));
    await expect(a).resolves.toBe('get(a): A');
    await expect(b).resolves.toBe('get(b): B');
    await expect(c).resolves.toBe('get(c): C');
    expect(table(0).size).toBe(0);
    // The same id again is stray now.
    world.on(0, () => table(0).deliver(0, 1, ok('again')));
    expect(stats).toEqual({ stray: 1, forwarded: 0 });
    expect(world.events).toEqual([]);
  });

  it('forwards a reply that arrives on another core to the asking core, where it settles', async () => {
    const { world, stats, table } = setUp();
    let id = 0;
    const p = world.on(1, () => table(1).request('get(x)', (i) => void (id = i)));
    world.on(0, () => table(0).deliver(1, id, ok('X')));
    expect(stats.forwarded).toBe(1);
    expect(table(1).size).toBe(1); // not yet: the forward is an event on core 1
    expect(world.events.map((e) => e.core)).toEqual([1]);
    world.drain();
    expect(table(1).size).toBe(0);
    await expect(p).resolves.toBe('get(x): X');
    // A reply naming a core the node does not have is stray, and not forwarded.
    world.on(0, () => table(0).deliver(7, id, ok('X')));
    expect(stats).toEqual({ stray: 1, forwarded: 1 });
  });

  it('rejects with the error the reply handler throws', async () => {
    const { world, table } = setUp();
    const p = world.on(0, () => table(0).request('set(y)', () => undefined));
    world.on(0, () => table(0).deliver(0, 1, Uint8Array.of(0)));
    await expect(p).rejects.toThrow('set(y) failed remotely');
  });

  it('times out through the Timer Ebb, reading the timeout per request; a late reply is stray', async () => {
    let timeoutUs = 250;
    const { world, stats, table } = setUp({
      timeoutUs: () => timeoutUs,
      timedOut: (op) => {
        throw new Error(`${op}: no reply`);
      },
    });
    const p = world.on(0, () => table(0).request('get(t)', () => undefined));
    timeoutUs = 500;
    const q = world.on(1, () => table(1).request('get(u)', () => undefined));
    expect(world.timers.map((t) => [t.core, t.us])).toEqual([
      [0, 250],
      [1, 500],
    ]);
    world.fire(0);
    await expect(p).rejects.toThrow('get(t): no reply');
    expect(table(0).size).toBe(0);
    world.on(0, () => table(0).deliver(0, 1, ok('late')));
    expect(stats.stray).toBe(1);
    // A reply stops its timer.
    world.on(1, () => table(1).deliver(1, 1, ok('U')));
    await expect(q).resolves.toBe('get(u): U');
    expect(world.timers[1]!.handle.active).toBe(false);
  });

  it('a timeout may resolve instead (an accumulator gives up waiting), and defaults to a generic error', async () => {
    const { world, table } = setUp({ timeoutUs: () => 10, timedOut: (op) => `${op}: partial` });
    const p = world.on(0, () => table(0).request('sum', () => undefined));
    world.fire(0);
    await expect(p).resolves.toBe('sum: partial');

    const plain = setUp({ timeoutUs: () => 10, timedOut: undefined });
    const q = plain.world.on(0, () => plain.table(0).request('get', () => undefined));
    plain.world.fire(0);
    await expect(q).rejects.toThrow(/no reply within 10 us/);
  });

  it('arms no timer on a node without a Timer Ebb', async () => {
    const { world, table } = setUp({ timeoutUs: () => 10 }, new World(2, false));
    const p = world.on(0, () => table(0).request('get', () => undefined));
    expect(world.timers).toEqual([]);
    world.on(0, () => table(0).deliver(0, 1, ok('fine')));
    await expect(p).resolves.toBe('get: fine');
  });

  it('settles a request whose send rejects or throws through unsent, stopping its timer', async () => {
    const unreachable: string[] = [];
    const { world, stats, table } = setUp({
      timeoutUs: () => 1000,
      unsent: (e, op) => {
        unreachable.push(op);
        throw new Error(`${op} cannot reach: ${(e as Error).message}`);
      },
    });
    const p = world.on(0, () => table(0).request('get(r)', () => Promise.reject(new Error('peer dead'))));
    const q = world.on(0, () =>
      table(0).request('get(s)', () => {
        throw new Error('no route');
      }),
    );
    // The rejection's handler runs as a microtask outside any core: the settlement is an event on core 0.
    await new Promise((r) => setTimeout(r, 0));
    world.drain();
    await expect(p).rejects.toThrow('get(r) cannot reach: peer dead');
    await expect(q).rejects.toThrow('get(s) cannot reach: no route');
    expect(unreachable).toEqual(['get(s)', 'get(r)']);
    expect(world.timers.map((t) => t.handle.active)).toEqual([false, false]);
    expect(table(0).size).toBe(0);
    world.on(0, () => table(0).deliver(0, 1, ok('late')));
    expect(stats.stray).toBe(1);
    // Without unsent the send's own error rejects the request.
    const plain = setUp({ unsent: undefined });
    const e = new Error('as is');
    const r = plain.world.on(0, () => plain.table(0).request('x', () => Promise.reject(e)));
    await new Promise((r) => setTimeout(r, 0));
    plain.world.drain();
    await expect(r).rejects.toBe(e);
  });

  it('a send that fails after the reply changes nothing', async () => {
    const { world, table } = setUp();
    let fail!: (e: unknown) => void;
    const p = world.on(0, () => table(0).request('get', () => new Promise<void>((_, reject) => (fail = reject))));
    world.on(0, () => table(0).deliver(0, 1, ok('first')));
    fail(new Error('too late'));
    await expect(p).resolves.toBe('get: first');
  });

  it('context, resolve and reject let a caller accumulate partial replies', async () => {
    const world = new World();
    const table: PendingRequests<number, { sum: number; waiting: number }> = new PendingRequests(world.node.core(0), { here: () => table });
    const p = world.on(0, () => table.request({ sum: 1, waiting: 2 }, () => undefined));
    for (const n of [10, 100]) {
      world.on(0, () => {
        const c = table.context(1)!;
        c.sum += n;
        if (--c.waiting === 0) expect(table.resolve(1, c.sum)).toBe(true);
      });
    }
    await expect(p).resolves.toBe(111);
    expect(table.context(1)).toBeUndefined();
    expect(world.on(0, () => table.resolve(1, 0))).toBe(false);
    const q = world.on(0, () => table.request({ sum: 0, waiting: 1 }, () => undefined));
    expect(world.on(0, () => table.reject(2, new Error('gone')))).toBe(true);
    expect(world.on(0, () => table.reject(2, new Error('twice')))).toBe(false);
    await expect(q).rejects.toThrow('gone');
  });

  it('rejectAll rejects every pending request of the core and stops their timers', async () => {
    const { world, table } = setUp({ timeoutUs: () => 1000 });
    const ps = world.on(0, () => ['a', 'b'].map((op) => table(0).request(op, () => undefined)));
    const other = world.on(1, () => table(1).request('c', () => undefined));
    world.on(0, () => table(0).rejectAll((op) => new Error(`${op}: peer died`)));
    await expect(ps[0]).rejects.toThrow('a: peer died');
    await expect(ps[1]).rejects.toThrow('b: peer died');
    expect(table(0).size).toBe(0);
    expect(table(1).size).toBe(1);
    expect(world.timers.map((t) => t.handle.active)).toEqual([false, false, true]);
    world.on(1, () => table(1).deliver(1, 1, ok('C')));
    await expect(other).resolves.toBe('c: C');
  });

  it('request ids wrap from 2^32-1 to 1', () => {
    const { world, table } = setUp();
    const ids: number[] = [];
    (table(0) as unknown as { nextId: number }).nextId = 0xffffffff;
    world.on(0, () => {
      for (let i = 0; i < 2; i++) table(0).request('x', (id) => void ids.push(id));
    });
    expect(ids).toEqual([0xffffffff, 1]);
  });
});
