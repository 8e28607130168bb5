/**
 * No process-wide caches: a module-level EbbRef, shared by every node in the process, must not
 * keep a node alive once the node is dropped, nor hand one node's rep to another. (Before the
 * fix, each ref kept the last (core, rep) pair it translated, so the last node to use a
 * module-level ref stayed reachable, machine and reps included.)
 */
import { SystemEbbIds, type CoreInfo, type EbbRoot, type NetworkManager } from '@ebbrt/interfaces';
import { collectUntil, Liveness } from '@ebbrt/testkit/gc';
import { netFixture } from '@ebbrt/testkit/net';
import { describe, expect, it } from 'vitest';
import { EbbRef, NodeContext, runOnCore } from '../src/index.js';

const ID = 0x100;

class Rep {
  constructor(
    readonly node: number,
    readonly core: number,
    readonly payload = new Uint8Array(1 << 16),
  ) {}
}

class Root implements EbbRoot<Rep> {
  handleFault(core: CoreInfo): Rep {
    return new Rep(core.node.id, core.index);
  }
}

// What an Ebb package does at module scope: one ref for every node in the process.
const shared = new EbbRef<Rep>(ID);

function bootAndUse(live: Liveness, nodeId: number): Rep[] {
  const node = new NodeContext({ id: nodeId, numCores: 2, target: 'native' });
  node.install(ID, new Root());
  const reps = node.cores.map((core) => runOnCore(core, () => shared.deref()));
  live.watch(`node ${nodeId}`, node);
  for (const rep of reps) live.watch(`node ${nodeId} rep of core ${rep.core}`, rep);
  return reps.map((r) => new Rep(r.node, r.core, new Uint8Array(0))); // copies: the test keeps no rep
}

describe('a module-level EbbRef keeps no node alive', () => {
  it('a dropped node and its reps are collected after the shared ref translated on every core', async () => {
    const live = new Liveness();
    expect(bootAndUse(live, 1).map((r) => [r.node, r.core])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    const rounds = await collectUntil(() => live.alive().length === 0);
    expect(live.alive(), 'still reachable after gc').toEqual([]);
    expect(rounds).toBeGreaterThan(0);
  });

  it('the same ref then translates on another node to that node\'s reps, and faults there once per core', async () => {
    const live = new Liveness();
    bootAndUse(live, 1);
    const node2 = new NodeContext({ id: 2, numCores: 2, target: 'native' });
    node2.install(ID, new Root());
    for (let round = 0; round < 3; round++) {
      for (const core of node2.cores) {
        const rep = runOnCore(core, () => shared.deref());
        expect([rep.node, rep.core]).toEqual([2, core.index]);
      }
    }
    expect(node2.cores.map((c) => c.faults)).toEqual([1, 1]);
    await collectUntil(() => live.alive().length === 0);
    expect(live.alive()).toEqual([]);
  });
});

describe('a freed simulated node is collected', () => {
  it('after traffic through the Ebb packages\' own module-level refs, the fixture\'s machines, nodes and reps go', async () => {
    const live = new Liveness();
    await (async () => {
      const f = netFixture({ seed: 3, nodes: 2 });
      // A round trip through EventManager, MemoryAllocator and the lwIP NetworkManager on both
      // nodes: every system Ebb translates on every core it touches, module-level refs included.
      const out = f.run(0, 1, () => f.nodes[0]!.rep().ping('10.0.0.2', { count: 2 }));
      await f.sim.run({ untilNs: f.sim.now() + 50_000_000 });
      expect(out.error).toBeUndefined();
      expect(out.value).toHaveLength(2);
      f.run(1, 0, () => {
        live.watch('node 1 NetworkManager rep of core 0', new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref() as object);
      });
      await f.sim.run({ untilNs: f.sim.now() + 1_000_000 });
      f.nodes.forEach((n, i) => {
        live.watch(`machine ${i}`, n.machine);
        live.watch(`node ${i}`, n.node);
        live.watch(`node ${i} NetworkManager root`, n.nm);
      });
      live.watch('simulation', f.sim);
      f.sim.stop();
    })();
    const rounds = await collectUntil(() => live.alive().length === 0);
    expect(live.alive(), `still reachable after ${rounds < 0 ? 'every' : rounds} gc round(s)`).toEqual([]);
  });
});
