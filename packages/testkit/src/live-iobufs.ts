import type { NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds } from '@ebbrt/interfaces';
import { SlqbRoot, type LeakReport } from '@ebbrt/memory-allocator-slqb';

/**
 * The IOBufs still alive on `node` (a leak check after quiescence). Only the SLQB allocator (the
 * one the fixtures install) tracks them, so any other allocator is an error naming the node.
 */
export function liveIOBufs(node: NodeContext): readonly LeakReport[] {
  const root = node.localIdMap.get(SystemEbbIds.MemoryAllocator);
  if (!(root instanceof SlqbRoot)) {
    throw new TypeError(`liveIOBufs: node ${node.id}'s MemoryAllocator is not @ebbrt/memory-allocator-slqb's SlqbRoot (only it tracks live IOBufs)`);
  }
  return root.liveIOBufs();
}
