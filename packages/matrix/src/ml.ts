/**
 * ml-matrix interop. ml-matrix's `AbstractMatrix` has synchronous `get`/`set`, and a distributed
 * element is a message away, so code that expects an AbstractMatrix gets a {@link MatrixView}: a
 * local copy materialised by the async `view()`, read and written synchronously, whose writes go
 * back to the tile nodes on `sync()` (only the tiles written). Nothing is fetched on `get`.
 */
import { AbstractMatrix, Matrix } from 'ml-matrix';
import { MatrixError } from './errors.js';
import type { DistMatrix } from './matrix.js';

/** A view larger than this many elements is refused (it is a full local copy). */
export const MAX_VIEW_ELEMENTS = 2 ** 26;

/** Copies a distributed matrix into an ml-matrix `Matrix` (untouched tiles are zeros and fetch nothing). */
export async function toMatrix(dm: DistMatrix): Promise<Matrix> {
  checkLocal(dm, 'toMatrix');
  const out = new Matrix(dm.rows, dm.columns);
  await eachTile(dm, (ti, tj, data, rows, cols) => {
    const r0 = ti * dm.tileSize;
    const c0 = tj * dm.tileSize;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.set(r0 + r, c0 + c, data[r * cols + c]!);
  });
  return out;
}

/** Writes an ml-matrix (or any AbstractMatrix) into `dm`, tile by tile; all-zero tiles stay untouched. */
export async function writeMatrix(dm: DistMatrix, m: AbstractMatrix): Promise<void> {
  if (!AbstractMatrix.isMatrix(m)) throw new MatrixError('fromMatrix: the argument must be an ml-matrix AbstractMatrix');
  if (m.rows !== dm.rows || m.columns !== dm.columns) throw new MatrixError(`fromMatrix: shapes differ (${m.rows}x${m.columns} into ${dm.rows}x${dm.columns})`);
  const T = dm.tileSize;
  const work: Promise<void>[] = [];
  for (let ti = 0; ti * T < dm.rows; ti++) {
    for (let tj = 0; tj * T < dm.columns; tj++) {
      const rows = Math.min(T, dm.rows - ti * T);
      const cols = Math.min(T, dm.columns - tj * T);
      const data = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = m.get(ti * T + r, tj * T + c);
      work.push(dm.putTile(ti, tj, data));
    }
  }
  const results = await Promise.allSettled(work);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/**
 * A synchronous stand-in for a distributed matrix, for code written against ml-matrix: every
 * AbstractMatrix method works on it (`mmul`, `transpose`, `norm`, decompositions...). It is a
 * snapshot taken by `view()`; `set` marks the tile dirty and `sync()` writes dirty tiles back.
 * Later changes to the distributed matrix are not seen until a new `view()`.
 */
export class MatrixView extends AbstractMatrix {
  declare readonly rows: number;
  declare readonly columns: number;
  private readonly data: Float64Array;
  private readonly dirty = new Set<number>();

  /** @internal use `dm.view()` */
  constructor(
    readonly source: DistMatrix,
    data: Float64Array,
  ) {
    super();
    this.rows = source.rows;
    this.columns = source.columns;
    this.data = data;
  }

  get(row: number, col: number): number {
    return this.data[row * this.columns + col]!;
  }

  set(row: number, col: number, value: number): this {
    this.data[row * this.columns + col] = value;
    const T = this.source.tileSize;
    this.dirty.add(Math.floor(row / T) * Math.ceil(this.columns / T) + Math.floor(col / T));
    return this;
  }

  /** Tiles written since the last sync. */
  get dirtyTiles(): number {
    return this.dirty.size;
  }

  /** Writes every tile changed through `set` back to its node. */
  async sync(): Promise<void> {
    const T = this.source.tileSize;
    const tileCols = Math.ceil(this.columns / T);
    const keys = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    await Promise.all(
      keys.map((key) => {
        const ti = Math.floor(key / tileCols);
        const tj = key % tileCols;
        const rows = Math.min(T, this.rows - ti * T);
        const cols = Math.min(T, this.columns - tj * T);
        const tile = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) tile.set(this.data.subarray((ti * T + r) * this.columns + tj * T, (ti * T + r) * this.columns + tj * T + cols), r * cols);
        return this.source.writeTile(ti, tj, tile);
      }),
    );
  }
}

/** Materialises a {@link MatrixView} of `dm` (one read per touched tile). */
export async function view(dm: DistMatrix): Promise<MatrixView> {
  checkLocal(dm, 'view');
  const data = new Float64Array(dm.rows * dm.columns);
  await eachTile(dm, (ti, tj, tile, rows, cols) => {
    const r0 = ti * dm.tileSize;
    const c0 = tj * dm.tileSize;
    for (let r = 0; r < rows; r++) data.set(tile.subarray(r * cols, (r + 1) * cols), (r0 + r) * dm.columns + c0);
  });
  return new MatrixView(dm, data);
}

function checkLocal(dm: DistMatrix, what: string): void {
  if (dm.rows * dm.columns > MAX_VIEW_ELEMENTS) {
    throw new MatrixError(`${what}: a ${dm.rows}x${dm.columns} matrix does not fit in one process (limit ${MAX_VIEW_ELEMENTS} elements); read tiles with readTile`);
  }
}

async function eachTile(dm: DistMatrix, fn: (ti: number, tj: number, data: Float64Array, rows: number, cols: number) => void): Promise<void> {
  const T = dm.tileSize;
  const reads: Promise<void>[] = [];
  for (let ti = 0; ti * T < dm.rows; ti++) {
    for (let tj = 0; tj * T < dm.columns; tj++) {
      const rows = Math.min(T, dm.rows - ti * T);
      const cols = Math.min(T, dm.columns - tj * T);
      reads.push(dm.getTile(ti, tj).then((data) => fn(ti, tj, data, rows, cols)));
    }
  }
  const results = await Promise.allSettled(reads);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
