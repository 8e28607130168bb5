/**
 * The live view: a plain-data snapshot of a running world (nodes, cores, memory, NIC and link
 * counters, Messenger connections and traffic as a graph), rendered by @ebbrt/live-view (the
 * same renderer as the `ebbrt run --ui` dashboard).
 */
import type { LiveSnapshot, NodeSnapshot, EdgeSnapshot } from '@ebbrt/live-view';
import type { World } from './world.js';

export type { LiveSnapshot };

export function takeSnapshot(world: World): LiveSnapshot {
  const nodes: NodeSnapshot[] = [];
  const edges: EdgeSnapshot[] = [];
  for (const n of world.nodes) {
    const m = n.messenger.stats();
    const mem = n.allocator.stats();
    const up = n.link.counters('aToB');
    nodes.push({
      id: n.node.id,
      name: n.machine.name,
      state: 'allocated',
      ebbs: n.ebbs,
      cores: n.machine.cores.map((c) => ({ index: c.index, state: c.state })),
      events: n.em.totalEvents(),
      memory: { totalBytes: mem.totalBytes, freePageBytes: mem.freePageBytes },
      nic: { ...n.nm.driver.device.stats },
      link: { sent: up.sent, delivered: up.delivered, lost: up.lost },
      connections: n.messenger.connections(),
      messagesSent: m.messagesSent,
      messagesReceived: m.messagesReceived,
    });
    for (const [peer, p] of Object.entries(m.peers)) {
      if (p.messagesSent > 0) edges.push({ from: n.node.id, to: Number(peer), messages: p.messagesSent, bytes: p.bytesSent });
    }
  }
  return { timeNs: world.sim.now(), clock: 'virtual', nodes, edges, counters: { slices: world.sim.totalSlices } };
}

