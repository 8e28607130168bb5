/**
 * The dashboard's snapshot collection (RunSnapshots) over the in-process platform: a node still
 * in the pool shows dormant (not allocated), a handed-out one allocated, a killed one dead with
 * its cause; each node's introspection (Ebb implementations, memory, NIC counters and drops, TCP
 * connections, Messenger traffic) reaches its card and the graph's edges, and rises with it.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '@ebbrt/hw-x86sim';
import { InProcessPlatform } from '@ebbrt/platform-in-process';
import type { LocalNode, LocalNodeHost, NodeIntrospection, NodeShape } from '@ebbrt/interfaces';
import { RunSnapshots } from '../src/cli/live-ui.js';

function host(sim: Simulation, sent: Map<number, number>): LocalNodeHost {
  return {
    async boot(id: number, shape: NodeShape): Promise<LocalNode> {
      const machine = sim.createMachine({ name: `node${id}`, cores: shape.cores, memoryBytes: shape.memoryBytes });
      const introspect = (): NodeIntrospection => {
        const n = sent.get(id) ?? 0;
        return {
          networkId: id,
          ebbs: [{ kind: 'MemoryAllocator', id: 5, packageName: `@acme/alloc-${id}` }],
          events: n * 3,
          memory: { totalBytes: shape.memoryBytes, freePageBytes: shape.memoryBytes - n * 4096, caches: [] },
          network: {
            nic: { rxFrames: n, txFrames: n },
            stack: { 'tcp.segmentsSent': n * 2 },
            drops: n > 0 ? { 'iface.ipBadChecksum': n } : {},
            connections: [{ localAddress: `10.0.0.${id}`, localPort: 7000, remoteAddress: '10.0.0.9', remotePort: 40000 + id, state: 'ESTABLISHED', core: 0, sendQueued: n, receiveQueued: 0 }],
          },
          messenger: { peers: [{ peer: id === 1 ? 2 : 1, messagesSent: n, bytesSent: n * 10, messagesReceived: 0, bytesReceived: 0 }], errors: {} },
        };
      };
      return { activate: async (_info, posted) => posted(), powerOff: () => machine.powerOff(), release: () => sim.destroyMachine(machine), introspect };
    },
  };
}

describe('RunSnapshots', () => {
  it('dormant, allocated and dead nodes, with their introspected data rising', async () => {
    const sim = new Simulation({ seed: 1 });
    const sent = new Map<number, number>();
    const platform = new InProcessPlatform(host(sim, sent));
    const shape = { cores: 2, memoryBytes: 1 << 20 };
    const a = await platform.boot(shape);
    const b = await platform.boot(shape);
    const pooled = await platform.boot(shape);
    await a.activate({ image: './main.mjs', args: [] });
    await b.activate({ image: './main.mjs', args: [] });
    // The UI starts now: node 3 is still dormant in the pool.
    const snaps = new RunSnapshots({ simulation: sim, platform }, 'virtual');
    await snaps.refresh();
    let s = snaps.snapshot();
    expect(s.nodes.map((n) => [n.id, n.state])).toEqual([[1, 'allocated'], [2, 'allocated'], [3, 'dormant']]);
    expect(s.nodes[0]!.ebbs).toEqual({ 'MemoryAllocator #5': '@acme/alloc-1' });
    expect(s.nodes[0]!.tcp).toEqual([{ local: '10.0.0.1:7000', remote: '10.0.0.9:40001', state: 'ESTABLISHED', sendQueued: 0, receiveQueued: 0 }]);
    expect(s.edges).toEqual([]); // no traffic yet: no arrow

    sent.set(1, 4);
    sent.set(2, 1);
    await snaps.refresh();
    s = snaps.snapshot();
    expect(s.edges).toEqual([{ from: 1, to: 2, messages: 4, bytes: 40 }, { from: 2, to: 1, messages: 1, bytes: 10 }]);
    expect(s.nodes[0]!.nic).toEqual({ rxFrames: 4, txFrames: 4 });
    expect(s.nodes[0]!.stack).toEqual({ 'tcp.segmentsSent': 8 });
    expect(s.nodes[0]!.drops).toEqual({ 'iface.ipBadChecksum': 4 });
    expect(s.nodes[0]!.memory).toEqual({ totalBytes: 1 << 20, freePageBytes: (1 << 20) - 4 * 4096 });
    expect(s.nodes[0]!.messagesSent).toBe(4);

    await pooled.activate({ image: './main.mjs', args: [] });
    b.kill('pulled the plug');
    await b.died;
    await Promise.resolve();
    s = snaps.snapshot();
    expect(s.nodes.map((n) => [n.id, n.state])).toEqual([[1, 'allocated'], [2, 'dead'], [3, 'allocated']]);
    expect(s.nodes[1]!.cause).toBe('pulled the plug');
    expect(s.nodes[1]!.cores.every((c) => c.state === 'off')).toBe(true);
  });
});
