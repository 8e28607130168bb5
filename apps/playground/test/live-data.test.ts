/**
 * The live view's data panels, read through the declared introspection while the KV demo runs
 * (4 nodes, loss on): each node lists its Ebb implementations and memory figures; NIC counters,
 * Messenger edges and their counts rise between snapshots; live TCP connections show up; and
 * the stack's drops by reason add up to the interface layer's own drop total.
 */
import { describe, expect, it } from 'vitest';
import { totalDrops } from '@ebbrt/network-manager-lwip';
import { runKvDemo, type KvDemoResult } from '../src/kv-demo.js';
import type { LiveSnapshot } from '../src/live-view.js';
import { createWorld } from '../src/world.js';
import { takeSnapshot } from '../src/live-view.js';

describe('live view data (introspection)', () => {
  it('shows Ebbs, memory, rising NIC counters and Messenger edges, and live TCP connections', async () => {
    for (const seed of [3, 8]) {
      const snaps: LiveSnapshot[] = [];
      const r: KvDemoResult = await runKvDemo({ seed, nodes: 4, loss: 0.05, latencyNs: 20_000, onSnapshot: (s) => snaps.push(s) });
      expect(r.completed).toBe(r.expected);
      expect(snaps.length).toBeGreaterThan(2);
      const first = snaps[0]!;
      const last = snaps[snaps.length - 1]!;
      for (const n of last.nodes) {
        expect(n.ebbs?.['Messenger #7']).toBe('@ebbrt/messenger');
        expect(n.ebbs?.['MemoryAllocator #5']).toBe('@ebbrt/memory-allocator-slqb');
        expect(n.memory!.totalBytes).toBeGreaterThan(0);
        expect(n.memory!.freePageBytes).toBeLessThan(n.memory!.totalBytes);
        const before = first.nodes.find((m) => m.id === n.id)!;
        expect(n.nic!.rxFrames!).toBeGreaterThan(before.nic!.rxFrames ?? 0);
      }
      // Some snapshot saw an established connection on every node (the Messenger runs on TCP).
      for (const id of [1, 2, 3, 4]) {
        expect(snaps.some((s) => s.nodes.find((n) => n.id === id)!.tcp!.some((c) => c.state === 'ESTABLISHED'))).toBe(true);
      }
      // Clients talk to node 1 and back: edges both ways, and their counts rise.
      const edge = (s: LiveSnapshot, from: number, to: number) => s.edges.find((e) => e.from === from && e.to === to)?.messages ?? 0;
      for (const c of [2, 3, 4]) {
        expect(edge(last, c, 1)).toBeGreaterThan(0);
        expect(edge(last, 1, c)).toBeGreaterThan(0);
        const mid = snaps[Math.floor(snaps.length / 2)]!;
        expect(edge(last, c, 1)).toBeGreaterThanOrEqual(edge(mid, c, 1));
      }
      expect(snaps.some((s, i) => i > 0 && s.edges.reduce((a, e) => a + e.messages, 0) > snaps[i - 1]!.edges.reduce((a, e) => a + e.messages, 0))).toBe(true);
    }
  }, 60_000);

  it("the drops by reason add up to the interface layer's drop total", async () => {
    const world = await createWorld({ seed: 2, nodes: 2, cores: 1, link: {} });
    const nm = world.nodes[0]!.nm;
    nm.iface.counters.ipBadChecksum += 3; // as if three corrupt frames had come in
    nm.iface.counters.udpNoSocket += 2;
    const stats = nm.networkStats();
    const iface = Object.entries(stats.drops).filter(([k]) => k.startsWith('iface.')).reduce((a, [, v]) => a + v, 0);
    expect(iface).toBe(totalDrops(nm.iface.counters));
    expect(stats.drops).toMatchObject({ 'iface.ipBadChecksum': 3, 'iface.udpNoSocket': 2 });
    expect(stats.stack['iface.rxFrames']).toBe(nm.iface.counters.rxFrames);
    // The card keeps them apart: device counters, stack counters, drops by reason.
    const card = takeSnapshot(world).nodes[0]!;
    expect(card.drops).toMatchObject({ 'iface.ipBadChecksum': 3, 'iface.udpNoSocket': 2 });
    expect(card.stack!['iface.rxFrames']).toBe(nm.iface.counters.rxFrames);
    expect(Object.keys(card.nic!).some((k) => k.startsWith('iface.'))).toBe(false);
  });
});
