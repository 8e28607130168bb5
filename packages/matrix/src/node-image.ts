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

/** Registers the matrix type on this node (call in an event on the node, once). */
export function installTileNode(info: NodeInfo, messenger: Messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger).deref()): void {
  const node: NodeContext = nodeContextOf(info);
  messenger.registerType(MATRIX_TYPE, (ebbId) => {
    if (!node.localIdMap.has(ebbId)) node.install(ebbId, new SharedRoot(node, ebbId, (n) => new TileNodeRep(n, ebbId)));
    const rep = new EbbRef<TileNodeRep>(ebbId);
    return (from, _type, message) => rep.deref().receive(from, message);
  });
}

/** The image's entry point: `ctx` is the runtime's AppContext (only its node is used). */
export function main(ctx: { readonly node: NodeInfo }): void {
  installTileNode(ctx.node);
}
