import { NoCurrentCoreError, UnknownEbbError, type EbbRoot } from '@ebbrt/interfaces';
import { describe, expect, it, vi } from 'vitest';
import { cpu, runOnCore } from './cpu.js';
import { EbbRef, ebbRef } from './ebb-ref.js';
import { CountingRoot, makeNode } from '../test/fixtures.js';

describe('EbbRef translation', () => {
  it('faults exactly once per core across many derefs, refs and interleavings', () => {
    const node = makeNode(1, 4);
    const root = new CountingRoot();
    const id = node.ebbAllocator.allocateLocal();
    node.install(id, root);
    // Several ref objects for one id: translation is per core, not per ref.
    const refs = [new EbbRef<{ core: number }>(id), ebbRef<{ core: number }>(id), new EbbRef<{ core: number }>(id)];
    for (let round = 0; round < 50; round++) {
      for (let c = 0; c < 4; c++) {
        // Interleave cores and refs, including nested core entries.
        const core = node.core((c * 3 + round) % 4);
        runOnCore(core, () => {
          for (const ref of refs) expect(ref.deref().core).toBe(core.index);
          runOnCore(node.core((core.index + 1) % 4), () => {
            expect(refs[round % 3]!.deref().core).toBe((core.index + 1) % 4);
          });
          // Back on the outer core after the nested one returned.
          expect(refs[(round + 1) % 3]!.deref().core).toBe(core.index);
        });
      }
    }
    expect(root.total).toBe(4);
    expect([...root.faultsByCore.entries()].sort()).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(node.cores.map((c) => c.faults)).toEqual([1, 1, 1, 1]);
  });

  it('a ref made after the first fault on a core does not fault again', () => {
    const node = makeNode(1, 2);
    const root = new CountingRoot();
    node.install(0x100, root);
    runOnCore(node.core(0), () => new EbbRef(0x100).deref());
    runOnCore(node.core(0), () => new EbbRef(0x100).deref());
    expect(root.total).toBe(1);
  });

  it('a throwing fault handler propagates and caches nothing', () => {
    const node = makeNode(1, 2);
    const root = new CountingRoot();
    node.install(0x100, root);
    const ref = new EbbRef<{ core: number }>(0x100);
    const boom = new Error('rep construction failed');
    root.failWith = boom;
    runOnCore(node.core(0), () => {
      expect(() => ref.deref()).toThrow(boom);
      expect(() => ref.deref()).toThrow(boom);
    });
    expect(root.total).toBe(2);
    expect(node.core(0).translation.has(0x100)).toBe(false);
    expect(node.core(0).faults).toBe(0);
    root.failWith = undefined;
    runOnCore(node.core(0), () => expect(ref.deref().core).toBe(0));
    runOnCore(node.core(0), () => ref.deref());
    expect(root.total).toBe(3);
  });

  it('a failed fault does not leave the ref pointing at another core\'s rep', () => {
    const node = makeNode(1, 2);
    const root = new CountingRoot();
    node.install(0x100, root);
    const ref = new EbbRef<{ core: number }>(0x100);
    runOnCore(node.core(0), () => ref.deref());
    root.failWith = new Error('no');
    runOnCore(node.core(1), () => expect(() => ref.deref()).toThrow('no'));
    root.failWith = undefined;
    runOnCore(node.core(1), () => expect(ref.deref().core).toBe(1));
    runOnCore(node.core(0), () => expect(ref.deref().core).toBe(0));
  });

  it('deref outside any core throws NoCurrentCoreError naming the id', () => {
    expect(cpu.current).toBeUndefined();
    const node = makeNode();
    node.install(0x123, new CountingRoot());
    const ref = new EbbRef(0x123);
    expect(() => ref.deref()).toThrow(NoCurrentCoreError);
    expect(() => ref.deref()).toThrow(/0x123/);
    // Also after a successful deref on a core: the per-ref cache must not answer.
    runOnCore(node.core(0), () => ref.deref());
    expect(() => ref.deref()).toThrow(NoCurrentCoreError);
  });

  it('an unknown id throws UnknownEbbError naming id and node', () => {
    const node = makeNode(42, 1);
    const ref = new EbbRef(0x4567);
    const err = runOnCore(node.core(0), () => {
      try {
        ref.deref();
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(err).toBeInstanceOf(UnknownEbbError);
    expect((err as UnknownEbbError).ebbId).toBe(0x4567);
    expect((err as UnknownEbbError).nodeId).toBe(42);
    expect((err as Error).message).toMatch(/0x4567.*node 42/);
  });

  it('consults the miss handler for an id with no root, and installs what it returns once', () => {
    const node = makeNode(3, 2);
    const root = new CountingRoot();
    const handler = vi.fn((id: number) => (id === 0x20000 ? (root as EbbRoot<unknown>) : undefined));
    node.setMissHandler(handler);
    const ref = new EbbRef<{ node: number }>(0x20000);
    runOnCore(node.core(0), () => expect(ref.deref().node).toBe(3));
    runOnCore(node.core(1), () => ref.deref());
    // Core 1 found the root in the LocalIdMap: the hook is only for ids with no root.
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler).toHaveBeenCalledWith(0x20000, node);
    expect(node.localIdMap.get(0x20000)).toBe(root);
    expect(root.total).toBe(2);
    // A handler that declines gives the usual error.
    expect(() => runOnCore(node.core(0), () => new EbbRef(0x30000).deref())).toThrow(UnknownEbbError);
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it('rejects a second miss handler but allows clearing it', () => {
    const node = makeNode();
    node.setMissHandler(() => undefined);
    expect(() => node.setMissHandler(() => undefined)).toThrow(/already has a miss handler/);
    node.setMissHandler(undefined);
    node.setMissHandler(() => undefined);
  });

  it('rejects invalid ids', () => {
    for (const bad of [0, -1, 1.5, 2 ** 32, Number.NaN]) expect(() => new EbbRef(bad)).toThrow(RangeError);
    expect(new EbbRef(0xffffffff).toString()).toBe('EbbRef(0xffffffff)');
  });

  it('runOnCore restores the previous core even when fn throws', () => {
    const node = makeNode(1, 2);
    runOnCore(node.core(0), () => {
      expect(() =>
        runOnCore(node.core(1), () => {
          throw new Error('x');
        }),
      ).toThrow('x');
      expect(cpu.current).toBe(node.core(0));
    });
    expect(cpu.current).toBeUndefined();
  });

  it('a direct write of cpu.current clears cached reps too (deref trusts its cache without reading the register)', () => {
    const nodeA = makeNode(1, 2);
    const nodeB = makeNode(2, 1);
    for (const n of [nodeA, nodeB]) n.install(0x100, new CountingRoot());
    const ref = new EbbRef<{ core: number }>(0x100);
    const repOf = (core: (typeof nodeA.cores)[number]) => runOnCore(core, () => ref.deref());
    const reps = [repOf(nodeA.core(0)), repOf(nodeA.core(1)), repOf(nodeB.core(0))];
    expect(new Set(reps).size).toBe(3);
    try {
      cpu.current = nodeA.core(0);
      expect(ref.deref()).toBe(reps[0]);
      cpu.current = nodeA.core(1);
      expect(ref.deref()).toBe(reps[1]);
      // Another node's core, then none: the ref must never answer with the last core's rep.
      cpu.current = nodeB.core(0);
      expect(ref.deref()).toBe(reps[2]);
      cpu.current = undefined;
      expect(() => ref.deref()).toThrow(NoCurrentCoreError);
    } finally {
      cpu.current = undefined;
    }
    expect(nodeA.cores.map((c) => c.faults)).toEqual([1, 1]);
  });

  it('a fault handler that answers undefined is asked again on every deref (nothing cached)', () => {
    const node = makeNode(1, 1);
    let asked = 0;
    const root: EbbRoot<undefined> = {
      handleFault: () => {
        asked++;
        return undefined;
      },
    };
    node.install(0x100, root);
    const ref = new EbbRef<unknown>(0x100);
    runOnCore(node.core(0), () => {
      expect(ref.deref()).toBeUndefined();
      expect(ref.deref()).toBeUndefined();
    });
    expect(asked).toBe(2);
  });

  it('LocalIdMap and EbbAllocator are translated on every core without a fault', () => {
    const node = makeNode(1, 3);
    for (const core of node.cores) {
      runOnCore(core, () => {
        expect(new EbbRef(1).deref()).toBe(node.localIdMap);
        expect(new EbbRef(2).deref()).toBe(node.ebbAllocator);
      });
    }
    expect(node.cores.map((c) => c.faults)).toEqual([0, 0, 0]);
  });
});
