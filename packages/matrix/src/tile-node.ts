/**
 * The matrix Ebb's rep on a tile node: the tiles this node holds (of any number of matrices) and
 * the jobs it is computing. Built when the first matrix message reaches the node (the Messenger's
 * type fault, see node-image.ts). Every request from the front-end is answered with a reply or an
 * error carrying its request id; tiles for a job come straight from other tile nodes.
 */
import { EbbRef, type NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type EbbId, type IOBuf, type Messenger } from '@ebbrt/interfaces';
import { addTiles, gemmAccumulate, randomizeTile, scaleTile, sumTile, transposeTile } from './kernels.js';
import { decode, encode, header, Kind, MATRIX_TYPE, Op, payloadFloats, type Header } from './wire.js';

interface Job {
  /** The expect message, once it came (inputs may arrive first: they come from other nodes). */
  expect: Header | undefined;
  /** Who sent the expect: where the job's reply goes. */
  coordinator: number;
  inputs: (Tile | undefined)[];
  /** Multiply: the next pair to accumulate, so the sum is in p order whatever the arrival order. */
  next: number;
  acc: Float64Array | undefined;
}

interface Tile {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Tile (ti, tj) as one number: tile coordinates are u32. */
function tileKey(ti: number, tj: number): number {
  return ti * 0x100000000 + tj;
}

export class TileNodeRep {
  private readonly messenger = new EbbRef<Messenger>(SystemEbbIds.Messenger);
  /** matrix id -> tile key -> tile. */
  private readonly tiles = new Map<number, Map<number, Tile>>();
  private readonly jobs = new Map<number, Job>();

  constructor(
    readonly node: NodeContext,
    readonly ebbId: EbbId,
  ) {}

  /** Tiles held, over every matrix (for tests and `stats`). */
  tileCount(): number {
    let n = 0;
    for (const m of this.tiles.values()) n += m.size;
    return n;
  }

  receive(from: number, message: IOBuf): void {
    let h: Header | undefined;
    try {
      const d = decode(message);
      h = d.h;
      this.dispatch(from, h, d.payload.length > 0 ? payloadFloats(d, h.rows * h.cols) : undefined);
    } catch (error) {
      const text = `node ${this.node.id}: ${error instanceof Error ? error.message : String(error)}`;
      const to = h?.op === Op.input ? this.jobs.get(h.req)?.coordinator : from;
      if (to !== undefined) this.send(to, header(Op.error, { req: h?.req ?? 0, matrix: h?.matrix ?? 0, ti: h?.ti ?? 0, tj: h?.tj ?? 0 }), undefined, text);
    }
  }

  private dispatch(from: number, h: Header, data: Float64Array | undefined): void {
    switch (h.op) {
      case Op.get: {
        const t = this.find(h);
        return this.reply(from, h, { x: t === undefined ? 0 : t.data[h.a * t.cols + h.b]! });
      }
      case Op.set: {
        const t = this.tile(h);
        t.data[h.a * t.cols + h.b] = h.x;
        return this.reply(from, h, {});
      }
      case Op.fill:
        this.tile(h).data.fill(h.x);
        return this.reply(from, h, {});
      case Op.randomize:
        randomizeTile(this.tile(h).data, h.rows, h.cols, h.y, h.z, h.x);
        return this.reply(from, h, {});
      case Op.sum: {
        const t = this.find(h);
        return this.reply(from, h, { x: t === undefined ? 0 : sumTile(t.data) });
      }
      case Op.write:
        // The payload may view the transport's buffer: keep a copy.
        this.put(h.matrix, h.ti, h.tj, { rows: h.rows, cols: h.cols, data: need(data, h).slice() });
        return this.reply(from, h, {});
      case Op.read: {
        const t = this.find(h);
        return this.send(from, header(Op.reply, { req: h.req, matrix: h.matrix, ti: h.ti, tj: h.tj, rows: h.rows, cols: h.cols }), t?.data ?? new Float64Array(h.rows * h.cols));
      }
      case Op.drop: {
        const held = this.tiles.get(h.matrix)?.size ?? 0;
        this.tiles.delete(h.matrix);
        return this.reply(from, h, { b: held });
      }
      case Op.stats:
        return this.reply(from, h, { a: this.tiles.size, b: this.tileCount(), y: this.jobs.size, x: this.bytes() });
      case Op.ship:
        return this.ship(from, h);
      case Op.expect: {
        const job = this.job(h.req);
        job.expect = h;
        job.coordinator = from;
        return this.advance(h.req, job);
      }
      case Op.input: {
        // Inputs come from other nodes: copy out of the transport's buffer.
        this.input(h.req, h.b, { rows: h.rows, cols: h.cols, data: need(data, h).slice() });
        return;
      }
      default:
        throw new Error(`unknown matrix op ${h.op}`);
    }
  }

  /** Sends our tile to the job's node (or hands it over here when that is us). */
  private ship(from: number, h: Header): void {
    const t = this.find(h) ?? { rows: h.rows, cols: h.cols, data: new Float64Array(h.rows * h.cols) };
    if (h.a === this.node.id) {
      this.input(h.req, h.b, { rows: t.rows, cols: t.cols, data: t.data.slice() });
      return;
    }
    const msg = header(Op.input, { req: h.req, matrix: h.matrix, ti: h.ti, tj: h.tj, rows: t.rows, cols: t.cols, b: h.b });
    this.messenger
      .deref()
      .send(h.a, this.ebbId, MATRIX_TYPE, encode(msg, t.data))
      .catch((error: unknown) => {
        const text = `node ${this.node.id}: shipping tile (${h.ti}, ${h.tj}) to node ${h.a}: ${error instanceof Error ? error.message : String(error)}`;
        this.send(from, header(Op.error, { req: h.req, matrix: h.matrix, ti: h.ti, tj: h.tj }), undefined, text);
      });
  }

  private input(jobId: number, slot: number, tile: Tile): void {
    const job = this.job(jobId);
    job.inputs[slot] = tile;
    this.advance(jobId, job);
  }

  private job(id: number): Job {
    let job = this.jobs.get(id);
    if (job === undefined) this.jobs.set(id, (job = { expect: undefined, coordinator: -1, inputs: [], next: 0, acc: undefined }));
    return job;
  }

  /** Does what the job's inputs so far allow; finishes it when every input is in. */
  private advance(id: number, job: Job): void {
    const e = job.expect;
    if (e === undefined) return;
    const n = e.rows * e.cols;
    if (e.a === Kind.multiply) {
      job.acc ??= new Float64Array(n);
      for (;;) {
        const p = job.next;
        if (2 * p >= e.b) break;
        const a = job.inputs[2 * p];
        const b = job.inputs[2 * p + 1];
        if (a === undefined || b === undefined) return;
        gemmAccumulate(a.data, b.data, job.acc, e.rows, a.cols, e.cols);
        job.inputs[2 * p] = job.inputs[2 * p + 1] = undefined;
        job.next = p + 1;
      }
      return this.finish(id, job, job.acc);
    }
    for (let i = 0; i < e.b; i++) if (job.inputs[i] === undefined) return;
    const out = new Float64Array(n);
    const in0 = job.inputs[0]!.data;
    if (e.a === Kind.add) {
      if (e.b === 2) addTiles(in0, job.inputs[1]!.data, out);
      else out.set(in0);
    } else if (e.a === Kind.scale) scaleTile(in0, e.x, out);
    else if (e.a === Kind.transpose) transposeTile(in0, e.cols, e.rows, out);
    else throw new Error(`job ${id}: unknown kind ${e.a}`);
    this.finish(id, job, out);
  }

  private finish(id: number, job: Job, out: Float64Array): void {
    const e = job.expect!;
    this.jobs.delete(id);
    this.put(e.matrix, e.ti, e.tj, { rows: e.rows, cols: e.cols, data: out });
    this.reply(job.coordinator, e, {});
  }

  private find(h: Header): Tile | undefined {
    return this.tiles.get(h.matrix)?.get(tileKey(h.ti, h.tj));
  }

  /** The tile the header names, made (zero) on first write. */
  private tile(h: Header): Tile {
    let t = this.find(h);
    if (t === undefined) this.put(h.matrix, h.ti, h.tj, (t = { rows: h.rows, cols: h.cols, data: new Float64Array(h.rows * h.cols) }));
    return t;
  }

  private put(matrix: number, ti: number, tj: number, t: Tile): void {
    let m = this.tiles.get(matrix);
    if (m === undefined) this.tiles.set(matrix, (m = new Map()));
    m.set(tileKey(ti, tj), t);
  }

  private bytes(): number {
    let n = 0;
    for (const m of this.tiles.values()) for (const t of m.values()) n += t.data.byteLength;
    return n;
  }

  private reply(to: number, h: Header, fields: Partial<Header>): void {
    this.send(to, header(Op.reply, { req: h.req, matrix: h.matrix, ti: h.ti, tj: h.tj, ...fields }));
  }

  private send(to: number, h: Header, data?: Float64Array, text?: string): void {
    // A reply that cannot be sent has nobody to tell: the coordinator is gone or freed us.
    this.messenger.deref().send(to, this.ebbId, MATRIX_TYPE, encode(h, data, text)).catch(() => undefined);
  }
}

function need(data: Float64Array | undefined, h: Header): Float64Array {
  if (data === undefined) throw new Error(`matrix op ${h.op} for tile (${h.ti}, ${h.tj}) carries no tile data`);
  return data;
}
