import type { NodeContext } from '@ebbrt/core-translation';
import { isRootOf, SystemEbbIds, type LiveIOBuf } from '@ebbrt/interfaces';

/**
 * The IOBufs still alive on `node` (a leak check after quiescence), through the allocator root's
 * declared `liveIOBufs()`. An allocator that does not track them is an error naming the node.
 */
export function liveIOBufs(node: NodeContext): readonly LiveIOBuf[] {
  const root = node.localIdMap.get(SystemEbbIds.MemoryAllocator);
  if (!isRootOf('MemoryAllocator', root)) throw new TypeError(`liveIOBufs: node ${node.id} has no MemoryAllocator root`);
  if (root.liveIOBufs === undefined) throw new TypeError(`liveIOBufs: node ${node.id}'s MemoryAllocator does not track live IOBufs (its root has no liveIOBufs())`);
  return root.liveIOBufs();
}
