import { UsageError } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { runOnCore } from './cpu.js';
import { EbbRef } from './ebb-ref.js';
import { LocalIdMap } from './local-id-map.js';
import { MulticoreEbb } from './multicore-ebb.js';
import { NodeContext } from './node-context.js';
import { CountingRoot, makeNode } from '../test/fixtures.js';

describe('NodeContext', () => {
  it('has the requested id and cores, each knowing its node and index', () => {
    const node = makeNode(7, 3);
    expect(node.id).toBe(7);
    expect(node.cores).toHaveLength(3);
    expect(node.cores.map((c) => [c.node, c.index])).toEqual([
      [node, 0],
      [node, 1],
      [node, 2],
    ]);
  });

  it('two nodes in one process are independent: same id, different reps', () => {
    const a = makeNode(1, 2);
    const b = makeNode(2, 2);
    const ra = new CountingRoot();
    const rb = new CountingRoot();
    a.install(0x100, ra);
    b.install(0x100, rb);
    const ref = new EbbRef<{ node: number; core: number }>(0x100);
    // Alternate nodes with one ref: its per-ref cache must follow the core.
    for (let i = 0; i < 10; i++) {
      expect(runOnCore(a.core(i % 2), () => ref.deref())).toEqual({ node: 1, core: i % 2 });
      expect(runOnCore(b.core(i % 2), () => ref.deref())).toEqual({ node: 2, core: i % 2 });
    }
    expect(ra.total).toBe(2);
    expect(rb.total).toBe(2);
    // Each node allocates local ids on its own.
    expect(a.ebbAllocator.allocateLocal()).toBe(b.ebbAllocator.allocateLocal());
  });

  it('a per-core Ebb created on one node is unknown on another', () => {
    const a = makeNode(1, 1);
    const b = makeNode(2, 1);
    const ref = MulticoreEbb.create(() => ({}), { node: a });
    expect(() => runOnCore(b.core(0), () => ref.deref())).toThrow(/node 2/);
  });

  it('validates its cores', () => {
    for (const n of [0, -1, 1.5]) {
      expect(() => new NodeContext({ id: 1, numCores: n, target: 'hosted' })).toThrow(/numCores/);
    }
    expect(() => makeNode(5, 2).core(2)).toThrow(/node 5 has no core 2/);
  });

  it('rejects installing twice under one id', () => {
    const node = makeNode();
    node.install(0x100, new CountingRoot());
    expect(() => node.install(0x100, new CountingRoot())).toThrow(UsageError);
  });
});

describe('LocalIdMap', () => {
  it('stores, finds and deletes roots', () => {
    const map = new LocalIdMap();
    const root = new CountingRoot();
    map.set(5, root);
    expect(map.get(5)).toBe(root);
    expect(map.has(5)).toBe(true);
    expect(map.size).toBe(1);
    expect(() => map.set(5, root)).toThrow(/0x5 already has a root/);
    expect(map.delete(5)).toBe(true);
    expect(map.get(5)).toBeUndefined();
  });
});
