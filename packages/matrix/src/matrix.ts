/**
 * A distributed matrix: what the user holds. Every op runs on the space's home core (posted there
 * when called from outside, e.g. a REPL line), touches only the tiles it needs, and allocates a
 * tile's node on first touch. Untouched tiles are zero and hold no node, so sum, add, scale,
 * transpose and multiply skip them; fill and randomize touch every tile.
 */
import type { Matrix } from 'ml-matrix';
import { MatrixError } from './errors.js';
import type { MatrixSpace, MatrixState } from './space.js';
import { toMatrix, view, type MatrixView } from './ml.js';
import { Tiling } from './tiling.js';
import { blank, Kind, Op, payloadFloats } from './wire.js';

interface TileRef {
  readonly state: MatrixState;
  readonly ti: number;
  readonly tj: number;
}

export class DistMatrix implements AsyncDisposable {
  /** @internal */
  constructor(
    readonly space: MatrixSpace,
    /** @internal */
    readonly state: MatrixState,
  ) {
    space.finalizer.register(this, state.id, this);
  }

  get rows(): number {
    return this.state.tiling.rows;
  }

  get columns(): number {
    return this.state.tiling.cols;
  }

  get tileSize(): number {
    return this.state.tiling.tileSize;
  }

  /** This matrix's number within its space (named in errors). */
  get id(): number {
    return this.state.id;
  }

  /** Network ids of the nodes holding tiles of this matrix now, ascending. */
  nodes(): number[] {
    return this.space.nodesOf(this.state);
  }

  /** Tiles that have been touched (hold a node). */
  touchedTiles(): number {
    return this.state.tiles.size;
  }

  get(row: number, col: number): Promise<number> {
    return this.space.enter(async () => {
      this.state.tiling.check(row, col);
      const d = await this.element(Op.get, row, col, 0);
      return d;
    });
  }

  set(row: number, col: number, value: number): Promise<void> {
    return this.space.enter(async () => {
      this.state.tiling.check(row, col);
      if (typeof value !== 'number') throw new MatrixError(`set(${row}, ${col}): value must be a number, got ${typeof value}`);
      await this.element(Op.set, row, col, value);
    });
  }

  /** Every element = `value` (touches every tile). */
  fill(value: number): Promise<this> {
    return this.space.enter(async () => {
      await this.everyTile(Op.fill, value);
      return this;
    });
  }

  /** Every element = a seeded uniform [0, 1) value, a function of (seed, row, col) only (see `randomAt`). */
  randomize(seed: number): Promise<this> {
    return this.space.enter(async () => {
      if (!Number.isInteger(seed)) throw new MatrixError(`randomize(seed): seed must be an integer, got ${String(seed)}`);
      await this.everyTile(Op.randomize, seed);
      return this;
    });
  }

  /**
   * Sum of every element: one request per node, which sums each of this matrix's tiles there;
   * the front-end adds the per-tile partial sums in tile order, so the result is the same bits
   * whatever the placement or the arrival order.
   */
  sum(): Promise<number> {
    return this.space.enter(async () => {
      this.space.usable(this.state);
      const t = this.state.tiling;
      // A failure names the first of this matrix's tiles on the node.
      const first = new Map<number, number>();
      for (const [key, node] of this.state.tiles) if (!first.has(node) || key < first.get(node)!) first.set(node, key);
      const replies = await Promise.all(
        [...first].map(([node, key]) =>
          this.space.request(node, { ...blank(), op: Op.sumAll, matrix: this.state.id, ti: t.ti(key), tj: t.tj(key) }, undefined, [{ node, matrix: this.state.id, ti: t.ti(key), tj: t.tj(key) }]),
        ),
      );
      const partial = new Map<number, number>();
      for (const d of replies) {
        const w = payloadFloats(d, d.h.cols);
        for (let i = 0; i + 2 < w.length; i += 3) partial.set(t.key(w[i]!, w[i + 1]!), w[i + 2]!);
      }
      // Neumaier over the partial sums, in tile order.
      let s = 0;
      let comp = 0;
      for (const key of [...this.state.tiles.keys()].sort((a, b) => a - b)) {
        const x = partial.get(key) ?? 0;
        const u = s + x;
        comp += Math.abs(s) >= Math.abs(x) ? s - u + x : x - u + s;
        s = u;
      }
      return s + comp;
    });
  }

  /** A new matrix `this + other` (same shape and tile size). */
  add(other: DistMatrix): Promise<DistMatrix> {
    return this.space.enter(async () => {
      this.sameSpace(other, 'add');
      const a = this.state.tiling;
      const b = other.state.tiling;
      if (a.rows !== b.rows || a.cols !== b.cols) throw new MatrixError(`add: shapes differ (${a.rows}x${a.cols} and ${b.rows}x${b.cols})`, 'MATRIX_SHAPE');
      this.sameTiles(other, 'add');
      return this.derive(new Tiling(a.rows, a.cols, a.tileSize), (out) => {
        const jobs: (() => Promise<void>)[] = [];
        for (let ti = 0; ti < a.tileRows; ti++) {
          for (let tj = 0; tj < a.tileCols; tj++) {
            const key = a.key(ti, tj);
            const inputs: TileRef[] = [];
            if (this.state.tiles.has(key)) inputs.push({ state: this.state, ti, tj });
            if (other.state.tiles.has(key)) inputs.push({ state: other.state, ti, tj });
            if (inputs.length > 0) jobs.push(() => this.job(out, ti, tj, Kind.add, inputs, 0));
          }
        }
        return jobs;
      });
    });
  }

  /** A new matrix `this * factor`. */
  scale(factor: number): Promise<DistMatrix> {
    return this.space.enter(async () => {
      if (typeof factor !== 'number') throw new MatrixError(`scale(factor): factor must be a number, got ${typeof factor}`);
      const a = this.state.tiling;
      return this.derive(new Tiling(a.rows, a.cols, a.tileSize), (out) =>
        this.touched().map(({ ti, tj }) => () => this.job(out, ti, tj, Kind.scale, [{ state: this.state, ti, tj }], factor)),
      );
    });
  }

  /** A new matrix, the transpose: tile (i, j) becomes tile (j, i), transposed on its new node. */
  transpose(): Promise<DistMatrix> {
    return this.space.enter(async () => {
      const a = this.state.tiling;
      return this.derive(new Tiling(a.cols, a.rows, a.tileSize), (out) =>
        this.touched().map(({ ti, tj }) => () => this.job(out, tj, ti, Kind.transpose, [{ state: this.state, ti, tj }], 0)),
      );
    });
  }

  /**
   * A new matrix `this x other`. Tile (i, j) of the product is computed on its own node from
   * A(i, p) and B(p, j), which their nodes send it directly over the Messenger (never through the
   * front-end); it accumulates them in p order, so the result does not depend on arrival order.
   */
  multiply(other: DistMatrix): Promise<DistMatrix> {
    return this.space.enter(async () => {
      this.sameSpace(other, 'multiply');
      const a = this.state.tiling;
      const b = other.state.tiling;
      if (a.cols !== b.rows) throw new MatrixError(`multiply: a ${a.rows}x${a.cols} matrix cannot multiply a ${b.rows}x${b.cols} one`, 'MATRIX_SHAPE');
      this.sameTiles(other, 'multiply');
      return this.derive(new Tiling(a.rows, b.cols, a.tileSize), (out) => {
        const jobs: (() => Promise<void>)[] = [];
        for (let i = 0; i < a.tileRows; i++) {
          for (let j = 0; j < b.tileCols; j++) {
            const inputs: TileRef[] = [];
            for (let p = 0; p < a.tileCols; p++) {
              if (this.state.tiles.has(a.key(i, p)) && other.state.tiles.has(b.key(p, j))) {
                inputs.push({ state: this.state, ti: i, tj: p }, { state: other.state, ti: p, tj: j });
              }
            }
            if (inputs.length > 0) jobs.push(() => this.job(out, i, j, Kind.multiply, inputs, 0));
          }
        }
        return jobs;
      });
    });
  }

  /** ml-matrix's name for {@link multiply}. */
  mmul(other: DistMatrix): Promise<DistMatrix> {
    return this.multiply(other);
  }

  /** Writes a whole tile (row-major `data` of the tile's shape); an all-zero tile of an untouched tile stays untouched. */
  writeTile(ti: number, tj: number, data: Float64Array): Promise<void> {
    return this.space.enter(() => this.putTile(ti, tj, data));
  }

  /** Reads a whole tile (zeros for an untouched one, without touching it). */
  readTile(ti: number, tj: number): Promise<Float64Array> {
    return this.space.enter(() => this.getTile(ti, tj));
  }

  /** A local ml-matrix copy (one read per touched tile). */
  toMatrix(): Promise<Matrix> {
    return this.space.enter(() => toMatrix(this));
  }

  /** A synchronous AbstractMatrix snapshot for ml-matrix code; its `sync()` writes changed tiles back. */
  view(): Promise<MatrixView> {
    return this.space.enter(() => view(this));
  }

  /** Gives back every node this matrix holds (a node shared with another matrix stays until that one goes). Idempotent. */
  free(): Promise<void> {
    this.space.finalizer.unregister(this);
    return this.space.enter(() => this.space.release(this.state));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.free();
  }

  /** How Node's REPL and console.log show it (not the whole space behind it). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  toString(): string {
    const s = this.state;
    const status = s.freed ? 'freed' : s.broken !== undefined ? 'broken' : `${s.tiles.size}/${s.tiling.tileCount} tiles on ${this.nodes().length} nodes`;
    return `DistMatrix #${s.id} ${s.tiling.rows}x${s.tiling.cols} (tile ${s.tiling.tileSize}; ${status})`;
  }

  /** @internal */
  async putTile(ti: number, tj: number, data: Float64Array): Promise<void> {
    this.space.usable(this.state);
    const t = this.state.tiling;
    this.checkTile(ti, tj);
    const n = t.rowsOf(ti) * t.colsOf(tj);
    if (!(data instanceof Float64Array) || data.length !== n) throw new MatrixError(`writeTile(${ti}, ${tj}): expected a Float64Array of ${n} elements`);
    if (!this.state.tiles.has(t.key(ti, tj)) && data.every((v) => v === 0)) return;
    const node = await this.space.nodeFor(this.state, ti, tj);
    await this.space.request(node, { ...blank(), op: Op.write, matrix: this.state.id, ti, tj, rows: t.rowsOf(ti), cols: t.colsOf(tj) }, data);
  }

  /** @internal */
  async getTile(ti: number, tj: number): Promise<Float64Array> {
    this.space.usable(this.state);
    const t = this.state.tiling;
    this.checkTile(ti, tj);
    const rows = t.rowsOf(ti);
    const cols = t.colsOf(tj);
    const node = this.state.tiles.get(t.key(ti, tj));
    if (node === undefined) return new Float64Array(rows * cols);
    const d = await this.space.request(node, { ...blank(), op: Op.read, matrix: this.state.id, ti, tj, rows, cols });
    return payloadFloats(d, rows * cols).slice();
  }

  private checkTile(ti: number, tj: number): void {
    const t = this.state.tiling;
    if (!Number.isInteger(ti) || !Number.isInteger(tj) || ti < 0 || tj < 0 || ti >= t.tileRows || tj >= t.tileCols) {
      throw new MatrixError(`tile (${ti}, ${tj}) is outside the ${t.tileRows}x${t.tileCols} tiles of matrix #${this.state.id}`, 'MATRIX_INDEX');
    }
  }

  private async element(op: number, row: number, col: number, value: number): Promise<number> {
    this.space.usable(this.state);
    const t = this.state.tiling;
    const ti = Math.floor(row / t.tileSize);
    const tj = Math.floor(col / t.tileSize);
    const node = await this.space.nodeFor(this.state, ti, tj);
    const d = await this.space.request(node, {
      ...blank(),
      op,
      matrix: this.state.id,
      ti,
      tj,
      rows: t.rowsOf(ti),
      cols: t.colsOf(tj),
      a: row - ti * t.tileSize,
      b: col - tj * t.tileSize,
      x: value,
    });
    return d.h.x;
  }

  private async everyTile(op: number, x: number): Promise<void> {
    this.space.usable(this.state);
    const t = this.state.tiling;
    this.space.checkBudget(t.tileCount - this.state.tiles.size, `touching all ${t.tileCount} tiles of matrix #${this.state.id}`);
    const work: Promise<unknown>[] = [];
    for (let ti = 0; ti < t.tileRows; ti++) {
      for (let tj = 0; tj < t.tileCols; tj++) {
        work.push(
          this.space.nodeFor(this.state, ti, tj).then((node) =>
            this.space.request(node, { ...blank(), op, matrix: this.state.id, ti, tj, rows: t.rowsOf(ti), cols: t.colsOf(tj), x, y: ti * t.tileSize, z: tj * t.tileSize }),
          ),
        );
      }
    }
    await settleAll(work);
  }

  private touched(): { ti: number; tj: number }[] {
    this.space.usable(this.state);
    const t = this.state.tiling;
    return [...this.state.tiles.keys()].sort((x, y) => x - y).map((key) => ({ ti: t.ti(key), tj: t.tj(key) }));
  }

  /** Makes the result matrix, runs its jobs; on any failure frees the result and rejects. */
  private async derive(tiling: Tiling, jobs: (out: MatrixState) => (() => Promise<void>)[]): Promise<DistMatrix> {
    this.space.usable(this.state);
    const out = this.space.newMatrix(tiling);
    try {
      const work = jobs(out);
      // Each output tile is touched: refuse, before allocating, a result needing too many nodes.
      this.space.checkBudget(work.length, `a result of ${work.length} tiles`);
      await settleAll(work.map((job) => job()));
    } catch (error) {
      await this.space.release(out);
      throw error;
    }
    return new DistMatrix(this.space, out);
  }

  /** One output tile computed on its node from input tiles its sources ship there. */
  private async job(out: MatrixState, ti: number, tj: number, kind: number, inputs: TileRef[], x: number): Promise<void> {
    const space = this.space;
    const t = out.tiling;
    const dest = await space.nodeFor(out, ti, tj);
    const sources = inputs.map((i) => i.state.tiles.get(i.state.tiling.key(i.ti, i.tj)));
    for (let k = 0; k < inputs.length; k++) {
      if (sources[k] === undefined) space.usable(inputs[k]!.state);
    }
    const involved = [{ node: dest, matrix: out.id, ti, tj }, ...inputs.map((i, k) => ({ node: sources[k]!, matrix: i.state.id, ti: i.ti, tj: i.tj }))];
    const { req, done } = space.allocateReq(involved);
    space.send(dest, req, { ...blank(), op: Op.expect, req, matrix: out.id, ti, tj, rows: t.rowsOf(ti), cols: t.colsOf(tj), a: kind, b: inputs.length, x });
    for (let k = 0; k < inputs.length; k++) {
      const i = inputs[k]!;
      const it = i.state.tiling;
      const from = sources[k]!;
      if (from !== dest) space.countMove(it.rowsOf(i.ti) * it.colsOf(i.tj));
      space.send(from, req, { ...blank(), op: Op.ship, req, matrix: i.state.id, ti: i.ti, tj: i.tj, rows: it.rowsOf(i.ti), cols: it.colsOf(i.tj), a: dest, b: k });
    }
    await done;
  }

  private sameSpace(other: DistMatrix, op: string): void {
    if (!(other instanceof DistMatrix)) throw new MatrixError(`${op}: the argument must be a DistMatrix`);
    if (other.space !== this.space) throw new MatrixError(`${op}: the matrices belong to different spaces`);
    this.space.usable(other.state);
  }

  private sameTiles(other: DistMatrix, op: string): void {
    if (this.tileSize !== other.tileSize) throw new MatrixError(`${op}: tile sizes differ (${this.tileSize} and ${other.tileSize})`, 'MATRIX_SHAPE');
  }
}

/**
 * Waits for every promise (so no op is still running when the caller goes on), then rejects
 * with the first failure if any.
 */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
