import { MatrixError } from './errors.js';

/** Largest dimension: tile coordinates travel as u32 and element indices must stay exact doubles. */
const MAX_DIM = 2 ** 32 - 1;
/** A 1024 x 1024 tile is 8 MiB: half the Messenger's default message limit. */
export const MAX_TILE = 1024;

/**
 * The geometry of a matrix split into square tiles of `tileSize` (edge tiles are smaller when the
 * size does not divide): which tile holds an element, and each tile's origin and shape.
 */
export class Tiling {
  readonly tileRows: number;
  readonly tileCols: number;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly tileSize: number,
  ) {
    checkDim('rows', rows);
    checkDim('cols', cols);
    if (!Number.isInteger(tileSize) || tileSize < 1 || tileSize > MAX_TILE) {
      throw new MatrixError(`tileSize must be an integer in 1..${MAX_TILE} (a tile travels as one Messenger message of at most 8 MiB), got ${String(tileSize)}`);
    }
    if (rows * cols > Number.MAX_SAFE_INTEGER) throw new MatrixError(`a ${rows}x${cols} matrix has more elements than a double counts exactly`);
    this.tileRows = Math.ceil(rows / tileSize);
    this.tileCols = Math.ceil(cols / tileSize);
  }

  get tileCount(): number {
    return this.tileRows * this.tileCols;
  }

  /** Rows of tile row `ti`. */
  rowsOf(ti: number): number {
    return Math.min(this.tileSize, this.rows - ti * this.tileSize);
  }

  /** Columns of tile column `tj`. */
  colsOf(tj: number): number {
    return Math.min(this.tileSize, this.cols - tj * this.tileSize);
  }

  /** A number naming tile (ti, tj) within this matrix (row-major tile order). */
  key(ti: number, tj: number): number {
    return ti * this.tileCols + tj;
  }

  ti(key: number): number {
    return Math.floor(key / this.tileCols);
  }

  tj(key: number): number {
    return key % this.tileCols;
  }

  /** Throws naming the bad index unless (row, col) is inside the matrix. */
  check(row: number, col: number): void {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows || !Number.isInteger(col) || col < 0 || col >= this.cols) {
      throw new MatrixError(`index (${String(row)}, ${String(col)}) is outside a ${this.rows}x${this.cols} matrix`, 'MATRIX_INDEX');
    }
  }
}

function checkDim(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_DIM) throw new MatrixError(`${name} must be an integer in 1..${MAX_DIM}, got ${String(n)}`);
}
