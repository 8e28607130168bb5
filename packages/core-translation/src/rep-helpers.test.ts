import type { CoreInfo } from '@ebbrt/interfaces';
import { describe, expect, it, vi } from 'vitest';
import { runOnCore } from './cpu.js';
import { EbbRef } from './ebb-ref.js';
import { MulticoreEbb, MulticoreRoot } from './multicore-ebb.js';
import { SharedEbb, SharedRoot } from './shared-ebb.js';
import { StaticSharedEbb } from './static-shared-ebb.js';
import { staticEbbId } from './static-id.js';
import { makeNode } from '../test/fixtures.js';

interface Slot {
  core: number;
  value: number;
}

describe('MulticoreEbb', () => {
  it('gives each core its own rep, made lazily, and the root sees them all', () => {
    const node = makeNode(1, 4);
    const makeRep = vi.fn((core: CoreInfo): Slot => ({ core: core.index, value: 0 }));
    const ref = MulticoreEbb.create(makeRep, { node });
    const root = MulticoreEbb.rootOf(ref, node);
    expect(root).toBeInstanceOf(MulticoreRoot);
    expect(root.reps()).toEqual([]);

    const seen = [3, 1, 0, 2].map((i) => runOnCore(node.core(i), () => ref.deref()));
    expect(new Set(seen).size).toBe(4);
    expect(seen.map((r) => r.core)).toEqual([3, 1, 0, 2]);
    // Same core again: the same rep, no new construction.
    for (let i = 0; i < 4; i++) expect(runOnCore(node.core(i), () => ref.deref())).toBe(root.repOn(i));
    expect(makeRep).toHaveBeenCalledTimes(4);

    expect(root.reps().map((r) => r.core)).toEqual([0, 1, 2, 3]);
    const visited: [number, number][] = [];
    root.forEachRep((rep, core) => visited.push([rep.core, core]));
    expect(visited).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('reps() and forEachRep() list only the cores that used the Ebb', () => {
    const node = makeNode(1, 4);
    const ref = MulticoreEbb.create((core): Slot => ({ core: core.index, value: 0 }), { node });
    runOnCore(node.core(2), () => ref.deref());
    const root = MulticoreEbb.rootOf(ref, node);
    expect(root.reps().map((r) => r.core)).toEqual([2]);
    expect(root.repOn(0)).toBeUndefined();
  });

  it('passes data and the root to makeRep, and defaults to the current node', () => {
    const node = makeNode(1, 2);
    const ref = runOnCore(node.core(0), () =>
      MulticoreEbb.create((_core, root: MulticoreRoot<{ data: string }, string>) => ({ data: root.data }), {
        data: 'shared',
      }),
    );
    expect(ref.id).toBeGreaterThanOrEqual(0x100);
    expect(runOnCore(node.core(1), () => ref.deref().data)).toBe('shared');
  });

  it('rootOf rejects an Ebb that is not per-core', () => {
    const node = makeNode();
    const ref = SharedEbb.create(() => ({}), { node });
    expect(() => MulticoreEbb.rootOf(ref, node)).toThrow(/not a MulticoreEbb/);
  });
});

describe('SharedEbb', () => {
  it('gives all cores of a node one rep, and different nodes different reps', () => {
    const a = makeNode(1, 4);
    const b = makeNode(2, 2);
    const makeRep = vi.fn((node: { id: number }) => ({ node: node.id }));
    const id = 0x200;
    SharedEbb.create(makeRep, { node: a, id });
    const ref = SharedEbb.create(makeRep, { node: b, id });
    const onA = a.cores.map((c) => runOnCore(c, () => ref.deref()));
    const onB = b.cores.map((c) => runOnCore(c, () => ref.deref()));
    expect(new Set(onA).size).toBe(1);
    expect(new Set(onB).size).toBe(1);
    expect(onA[0]).not.toBe(onB[0]);
    expect(onA[0]!.node).toBe(1);
    expect(onB[0]!.node).toBe(2);
    expect(makeRep).toHaveBeenCalledTimes(2);
    expect(a.localIdMap.get(id)).toBeInstanceOf(SharedRoot);
  });
});

describe('StaticSharedEbb', () => {
  it('never faults on any core and serves the given rep', () => {
    const node = makeNode(1, 3);
    const rep = { hello: 'world' };
    const id = staticEbbId('test:static-shared');
    const ref = StaticSharedEbb.install(node, id, rep, 'test:static-shared');
    for (const core of node.cores) runOnCore(core, () => expect(ref.deref()).toBe(rep));
    // Even a fresh ref on a fresh core needs no fault.
    runOnCore(node.core(2), () => expect(new EbbRef(id).deref()).toBe(rep));
    expect(node.cores.map((c) => c.faults)).toEqual([0, 0, 0]);
  });

  it('installs under a system id without a name', () => {
    const node = makeNode(1, 1);
    const ref = StaticSharedEbb.install(node, 10, { console: true });
    runOnCore(node.core(0), () => expect(ref.deref()).toEqual({ console: true }));
    expect(node.core(0).faults).toBe(0);
  });
});
