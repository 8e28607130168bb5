/**
 * A booted node as the declared NodeIntrospection (the dashboard's data): which implementation
 * each Ebb id resolved to, and the stats its roots declare. Runs only when a tool asks.
 */
import type { Machine } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, introspectRoots, type CoreIntrospection, type EbbId, type EbbImplementation, type NodeIntrospection } from '@ebbrt/interfaces';
import type { BootedNode } from './boot-node.js';

/** The Ebbs installed on `node`: the system Ebbs by their package, then the app's by root class. */
export function ebbImplementations(node: BootedNode): EbbImplementation[] {
  const out: EbbImplementation[] = node.installed.map((e) => ({ kind: e.kind, id: SystemEbbIds[e.kind], packageName: e.packageName }));
  const system = new Set<EbbId>(Object.values(SystemEbbIds));
  out.push({ kind: 'Console', id: SystemEbbIds.Console, packageName: '@ebbrt/runtime' });
  for (const id of node.context.localIdMap.ids()) {
    if (system.has(id)) continue;
    // An app's Ebb has no package entry: its root's class names the implementation.
    const root = node.context.localIdMap.get(id);
    out.push({ kind: 'app', id, packageName: root?.constructor.name ?? '?' });
  }
  return out;
}

/**
 * `clock` given (a node agent answering for its own machine): the node's per-core counters too,
 * with blocked events' ages against its simulation time, and that clock's reading (`nowNs`), so
 * the asker can put this node's trace on its own timeline.
 */
export function introspectNode(node: BootedNode, clock?: { now(): number }): NodeIntrospection {
  const data = introspectRoots(node.context.id, ebbImplementations(node), {
    events: node.events,
    memory: node.root('MemoryAllocator'),
    network: node.root('NetworkManager'),
    messenger: node.root('Messenger'),
  });
  if (clock === undefined || node.machine === undefined) return data;
  const nowNs = clock.now();
  return { ...data, cores: coresOf(node.machine, nowNs), nowNs };
}

/**
 * A machine's cores as plain data: the scheduler's counters and what each core's Event Manager
 * reports. Asking for the oldest unfinished event turns the EM's blocked-event tracking on (so a
 * run nobody watches pays nothing for it).
 */
export function coresOf(machine: Machine, nowNs: number): CoreIntrospection[] {
  return machine.cores.map((c) => {
    const stats = c.stats;
    const sw = stats?.software ?? null;
    const oldest = sw?.oldestUnfinishedEvent();
    return {
      index: c.index,
      state: c.state,
      slices: stats?.slices ?? 0,
      busyHostMs: stats?.busyHostMs ?? 0,
      ...(sw !== null ? { eventsDispatched: sw.eventsDispatched, eventsQueued: sw.eventsQueued } : {}),
      ...(oldest !== undefined ? { oldestEvent: { name: oldest.name, ageNs: nowNs - oldest.sinceNs } } : {}),
    };
  });
}
