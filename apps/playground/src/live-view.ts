/**
 * The live view: a plain-data snapshot of a running world, read through the same declared
 * introspection as the `ebbrt run --ui` dashboard (`introspectRoots`: allocator stats, the
 * stack's NIC/stack counters, drops and TCP connections, the Messenger's traffic per peer), and
 * rendered by @ebbrt/live-view.
 */
import { SystemEbbIds, introspectRoots, type SystemInterfaceName } from '@ebbrt/interfaces';
import { networkFields, type LiveSnapshot, type NodeSnapshot, type EdgeSnapshot } from '@ebbrt/live-view';
import type { World } from './world.js';

export type { LiveSnapshot };

export function takeSnapshot(world: World): LiveSnapshot {
  const nodes: NodeSnapshot[] = [];
  const edges: EdgeSnapshot[] = [];
  for (const n of world.nodes) {
    const ebbs = Object.entries(n.ebbs).map(([kind, packageName]) => ({ kind, id: SystemEbbIds[kind as SystemInterfaceName], packageName }));
    const d = introspectRoots(n.node.id, ebbs, { events: n.em, memory: n.allocator, network: n.nm, messenger: n.messenger });
    const up = n.link.counters('aToB');
    const net = d.network!;
    const traffic = d.messenger!.peers;
    nodes.push({
      id: n.node.id,
      name: n.machine.name,
      state: 'allocated',
      ebbs: Object.fromEntries(d.ebbs.map((e) => [`${e.kind} #${e.id}`, e.packageName])),
      cores: n.machine.cores.map((c) => ({ index: c.index, state: c.state })),
      events: d.events!,
      memory: { totalBytes: d.memory!.totalBytes, freePageBytes: d.memory!.freePageBytes },
      ...networkFields(net),
      link: { sent: up.sent, delivered: up.delivered, lost: up.lost },
      messagesSent: traffic.reduce((a, p) => a + p.messagesSent, 0),
      messagesReceived: traffic.reduce((a, p) => a + p.messagesReceived, 0),
    });
    for (const p of traffic) if (p.messagesSent > 0) edges.push({ from: n.node.id, to: p.peer, messages: p.messagesSent, bytes: p.bytesSent });
  }
  return { timeNs: world.sim.now(), clock: 'virtual', nodes, edges, counters: { slices: world.sim.totalSlices } };
}
