export { MatrixSpace, MATRIX_EBB_ID, type MatrixSpaceOptions, type MatrixState, type SpaceStats } from './space.js';
export { DistMatrix } from './matrix.js';
export { MatrixView, toMatrix, view, MAX_VIEW_ELEMENTS } from './ml.js';
export { perTile, packed, type Placement } from './placement.js';
export { Tiling } from './tiling.js';
export { MatrixError, MatrixTileError, ProtocolError } from './errors.js';
export { randomAt, gemmAccumulate, sumTile, addTiles, scaleTile, transposeTile, randomizeTile } from './kernels.js';
export { installTileNode, type TileNodeOptions } from './node-image.js';
export { MATRIX_TYPE } from './wire.js';
