import { MatrixError } from './errors.js';
import type { Tiling } from './tiling.js';

/**
 * Where a tile lives: a strategy inside the Ebb. It names a slot for each tile; the space
 * allocates one node per slot on first touch and frees it when no matrix holds a tile there.
 * Tiles with the same slot share a node, across matrices too.
 */
export interface Placement {
  readonly name: string;
  slot(matrix: number, tiling: Tiling, ti: number, tj: number): string;
  /** At most how many new nodes touching `tiles` more tiles can take, when `held` nodes are held. */
  newNodes(tiles: number, held: number): number;
}

/** One node per tile (EbbRT-Sage's layout): every tile of every matrix gets its own node. */
export function perTile(): Placement {
  return { name: 'per-tile', slot: (matrix, tiling, ti, tj) => `m${matrix}/${tiling.key(ti, tj)}`, newNodes: (tiles) => tiles };
}

/**
 * At most `nodes` nodes shared by every matrix of the space: tile (ti, tj) goes to node
 * `(ti * tileCols + tj) mod nodes`, so several tiles share a node and tile (i, j) of two matrices
 * of one shape land on the same node (an element-wise op moves nothing).
 */
export function packed(nodes: number): Placement {
  if (!Number.isInteger(nodes) || nodes < 1) throw new MatrixError(`packed(nodes): nodes must be a positive integer, got ${String(nodes)}`);
  return {
    name: `packed(${nodes})`,
    slot: (_matrix, tiling, ti, tj) => `p${tiling.key(ti, tj) % nodes}`,
    newNodes: (tiles, held) => Math.max(0, Math.min(tiles, nodes) - held),
  };
}
