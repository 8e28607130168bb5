import type { EbbId } from '@ebbrt/interfaces';
import { currentNode } from './cpu.js';
import type { NodeContext } from './node-context.js';

export interface CreateOptions<Data> {
  /** The node to install on; defaults to the current core's node. */
  node?: NodeContext;
  /** The id to use; defaults to a fresh local id from the node's EbbAllocator. */
  id?: EbbId;
  data?: Data;
}

export function placement<Data>(options: CreateOptions<Data>): { node: NodeContext; id: EbbId } {
  const node = options.node ?? currentNode();
  return { node, id: options.id ?? node.ebbAllocator.allocateLocal() };
}

