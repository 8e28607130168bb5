/**
 * The image a tile node boots (the NodeAllocator's `image`): it registers the matrix Ebb's
 * message type with the node's Messenger, so the first matrix message to reach the node builds
 * the node's rep (EbbRT's Messagable: the message faults the rep in). Nothing else runs until a
 * message comes; the node stays up until the front-end frees it.
 */
import { EbbRef, SharedRoot, nodeContextOf, type NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type NodeInfo, type Messenger } from '@ebbrt/interfaces';
import { TileNodeRep } from './tile-node.js';
import { MATRIX_TYPE } from './wire.js';

export interface TileNodeOptions {
  /** Default: the node's Messenger (well-known id). */
  messenger?: Messenger;
  /**
   * A wall clock (ms) to record when each job computed (read back with the space's
   * `jobWindows(node)`): for showing that nodes compute at the same time. Off by default, so a
   * simulated node stays deterministic.
   */
  clock?: () => number;
}

/** Registers the matrix type on this node (call in an event on the node, once). */
export function installTileNode(info: NodeInfo, options: TileNodeOptions = {}): void {
  const node: NodeContext = nodeContextOf(info);
  const messenger = options.messenger ?? new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
  messenger.registerType(MATRIX_TYPE, (ebbId) => {
    if (!node.localIdMap.has(ebbId)) node.install(ebbId, new SharedRoot(node, ebbId, (n) => new TileNodeRep(n, ebbId, options.clock)));
    const rep = new EbbRef<TileNodeRep>(ebbId);
    return (from, _type, message) => rep.deref().receive(from, message);
  });
}

/** The image's entry point: `ctx` is the runtime's AppContext (only its node is used). */
export function main(ctx: { readonly node: NodeInfo }): void {
  installTileNode(ctx.node);
}
