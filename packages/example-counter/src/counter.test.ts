import { EbbRef, MulticoreEbb, NodeContext, runOnCore } from '@ebbrt/core-translation';
import { validateManifest, type EbbInstallContext } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCounter, manifest, type CounterRep } from './index.js';

const makeNode = (id: number, numCores = 4) => new NodeContext({ id, numCores, target: 'hosted' });

describe('per-core counter', () => {
  it('keeps exact per-core counts across interleaved cores, and node totals equal their sum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ core: fc.nat(3), by: fc.integer({ min: 0, max: 5 }) }), { maxLength: 300 }),
        (ops) => {
          const node = makeNode(1, 4);
          const counter = createCounter({ node });
          const expected = [0, 0, 0, 0];
          for (const { core, by } of ops) {
            runOnCore(node.core(core), () => {
              if (by === 1) counter.deref().increment();
              else counter.deref().increment(by);
            });
            expected[core]! += by;
            // Any core sees the same node total at any time.
            const total = expected.reduce((a, b) => a + b, 0);
            expect(runOnCore(node.core((core + 1) % 4), () => counter.deref().getNumNode())).toBe(total);
          }
          for (let c = 0; c < 4; c++) {
            expect(runOnCore(node.core(c), () => counter.deref().getNumCore())).toBe(expected[c]);
          }
        },
      ),
    );
  });

  it('makes one rep per core lazily', () => {
    const node = makeNode(1, 4);
    const counter = createCounter({ node });
    runOnCore(node.core(1), () => counter.deref().increment(3));
    const root = MulticoreEbb.rootOf(counter, node);
    expect(root.reps()).toHaveLength(1);
    expect(runOnCore(node.core(2), () => counter.deref().getNumNode())).toBe(3);
    expect(root.reps()).toHaveLength(2);
    expect(runOnCore(node.core(2), () => counter.deref().getNumCore())).toBe(0);
  });

  it('two nodes are independent, even under the same id', () => {
    const a = makeNode(1, 2);
    const b = makeNode(2, 2);
    const ref = createCounter({ node: a });
    createCounter({ node: b, id: ref.id });
    for (let i = 0; i < 10; i++) runOnCore(a.core(i % 2), () => ref.deref().increment());
    runOnCore(b.core(0), () => ref.deref().increment(7));
    expect(runOnCore(a.core(0), () => ref.deref().getNumNode())).toBe(10);
    expect(runOnCore(a.core(1), () => ref.deref().getNumCore())).toBe(5);
    expect(runOnCore(b.core(1), () => ref.deref().getNumNode())).toBe(7);
  });

  it('defaults to the current node', () => {
    const node = makeNode(3, 1);
    const total = runOnCore(node.core(0), () => {
      const counter = createCounter();
      counter.deref().increment(2);
      return counter.deref().getNumNode();
    });
    expect(total).toBe(2);
  });
});

describe('manifest', () => {
  const context = (node: NodeContext, id: number): EbbInstallContext => ({
    id,
    node,
    target: node.target,
    log: () => {},
  });

  it('is a valid user:counter manifest for both targets', () => {
    const m = validateManifest('@ebbrt/example-counter', manifest);
    expect(m.implements).toBe('user:counter');
    expect([...m.targets].sort()).toEqual(['hosted', 'native']);
  });

  it('create() returns a root the node can install and fault through', async () => {
    const node = makeNode(1, 2);
    const id = node.ebbAllocator.allocateLocal();
    node.install(id, await manifest.create(context(node, id), undefined));
    const ref = new EbbRef<CounterRep>(id);
    runOnCore(node.core(0), () => ref.deref().increment(4));
    runOnCore(node.core(1), () => ref.deref().increment());
    expect(runOnCore(node.core(1), () => ref.deref().getNumNode())).toBe(5);
  });

  it('create() rejects a node that is not a NodeContext', () => {
    const fake = { id: 1, numCores: 1, target: 'hosted' as const };
    expect(() => manifest.create({ id: 0x100, node: fake, target: 'hosted', log: () => {} }, undefined)).toThrow(
      /not a core-translation NodeContext/,
    );
  });
});
