/**
 * A booted node as the declared NodeIntrospection (the dashboard's data): which implementation
 * each Ebb id resolved to, and the stats its roots declare. Runs only when a tool asks.
 */
import { SystemEbbIds, introspectRoots, type EbbId, type EbbImplementation, type NodeIntrospection } from '@ebbrt/interfaces';
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

export function introspectNode(node: BootedNode): NodeIntrospection {
  return introspectRoots(node.context.id, ebbImplementations(node), {
    events: node.events,
    memory: node.root('MemoryAllocator'),
    network: node.root('NetworkManager'),
    messenger: node.root('Messenger'),
  });
}
