/**
 * The matrix Ebb's rep on a tile node: the tiles this node holds (of any number of matrices) and
 * the jobs it is computing. Built when the first matrix message reaches the node (the Messenger's
 * type fault, see node-image.ts). Every request from the front-end is answered with a reply or an
 * error carrying its request id; tiles for a job come straight from other tile nodes.
 */
import { EbbRef, type NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type EbbId, type EventManager, type IOBuf, type Messenger } from '@ebbrt/interfaces';
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
  /** Multiply: the next row of the current pair (a pair is computed in row chunks, one event each). */
  row: number;
  /** A chunk event is queued: do not queue another. */
  computing: boolean;
  acc: Float64Array | undefined;
  /** When the first compute step ran (with a clock). */
  started: number | undefined;
}

/**
 * Multiply-accumulate work per event, in multiply-adds (~5 ms here). Between chunks the node's
 * event loop takes its interrupts: the NIC keeps receiving and sending tiles while a long
 * product computes, instead of the whole node stalling for it (events are not preempted).
 */
const CHUNK_WORK = 1 << 23;

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
  private readonly events = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  /** matrix id -> tile key -> tile. */
  private readonly tiles = new Map<number, Map<number, Tile>>();
  private readonly jobs = new Map<number, Job>();
  /** [first compute step, finish] of each recent job, when a clock was given (to show parallelism). */
  private readonly windows: number[] = [];

  constructor(
    readonly node: NodeContext,
    readonly ebbId: EbbId,
    /** A wall clock (ms) to record job windows with; none by default, so a simulation stays deterministic. */
    private readonly clock?: () => number,
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
        // A result still being computed for the dropped matrix would land after the drop.
        for (const [id, job] of this.jobs) if (job.expect?.matrix === h.matrix) this.jobs.delete(id);
        return this.reply(from, h, { b: held });
      }
      case Op.stats:
        return this.reply(from, h, { a: this.tiles.size, b: this.tileCount(), y: this.jobs.size, x: this.bytes() });
      case Op.ship:
        return this.ship(from, h);
      case Op.sumAll: {
        const tiles = this.tiles.get(h.matrix);
        const out = new Float64Array(3 * (tiles?.size ?? 0));
        let i = 0;
        for (const [key, t] of tiles ?? []) {
          out[i++] = Math.floor(key / 0x100000000);
          out[i++] = key % 0x100000000;
          out[i++] = sumTile(t.data);
        }
        return this.send(from, header(Op.reply, { req: h.req, matrix: h.matrix, rows: 1, cols: out.length }), out);
      }
      case Op.windows: {
        const w = Float64Array.from(this.windows);
        return this.send(from, header(Op.reply, { req: h.req, rows: 1, cols: w.length }), w);
      }
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
    if (job === undefined) this.jobs.set(id, (job = { expect: undefined, coordinator: -1, inputs: [], next: 0, row: 0, computing: false, acc: undefined, started: undefined }));
    return job;
  }

  /** Does what the job's inputs so far allow; finishes it when every input is in. */
  private advance(id: number, job: Job): void {
    const e = job.expect;
    if (e === undefined || job.computing) return;
    job.started ??= this.clock?.();
    if (e.a === Kind.multiply) {
      const p = job.next;
      if (2 * p >= e.b) return this.finish(id, job, job.acc ?? new Float64Array(e.rows * e.cols));
      if (job.inputs[2 * p] === undefined || job.inputs[2 * p + 1] === undefined) return;
      job.computing = true;
      this.events.deref().spawn(() => this.step(id, job), { async: true });
      return;
    }
    for (let i = 0; i < e.b; i++) if (job.inputs[i] === undefined) return;
    const out = new Float64Array(e.rows * e.cols);
    const in0 = job.inputs[0]!.data;
    if (e.a === Kind.add) {
      if (e.b === 2) addTiles(in0, job.inputs[1]!.data, out);
      else out.set(in0);
    } else if (e.a === Kind.scale) scaleTile(in0, e.x, out);
    else if (e.a === Kind.transpose) transposeTile(in0, e.cols, e.rows, out);
    else throw new Error(`job ${id}: unknown kind ${e.a}`);
    this.finish(id, job, out);
  }

  /** One event of a multiply: a chunk of rows of pair `next`, accumulated in p order. */
  private step(id: number, job: Job): void {
    job.computing = false;
    if (this.jobs.get(id) !== job) return; // dropped meanwhile
    const e = job.expect!;
    try {
      const p = job.next;
      const a = job.inputs[2 * p]!;
      const b = job.inputs[2 * p + 1]!;
      if (a.rows !== e.rows || b.cols !== e.cols || a.cols !== b.rows) {
        throw new Error(`job ${id}: pair ${p} is ${a.rows}x${a.cols} times ${b.rows}x${b.cols}, for a ${e.rows}x${e.cols} tile`);
      }
      const acc = (job.acc ??= new Float64Array(e.rows * e.cols));
      const k = a.cols;
      const rows = Math.max(1, Math.floor(CHUNK_WORK / (k * e.cols)));
      const r0 = job.row;
      const r1 = Math.min(e.rows, r0 + rows);
      gemmAccumulate(a.data.subarray(r0 * k, r1 * k), b.data, acc.subarray(r0 * e.cols, r1 * e.cols), r1 - r0, k, e.cols);
      job.row = r1;
      if (r1 === e.rows) {
        job.inputs[2 * p] = job.inputs[2 * p + 1] = undefined;
        job.next = p + 1;
        job.row = 0;
      }
      this.advance(id, job);
    } catch (error) {
      this.jobs.delete(id);
      const text = `node ${this.node.id}: ${error instanceof Error ? error.message : String(error)}`;
      this.send(job.coordinator, header(Op.error, { req: id, matrix: e.matrix, ti: e.ti, tj: e.tj }), undefined, text);
    }
  }

  private finish(id: number, job: Job, out: Float64Array): void {
    const e = job.expect!;
    this.jobs.delete(id);
    if (job.started !== undefined) {
      if (this.windows.length >= 128) this.windows.splice(0, 2);
      this.windows.push(job.started, this.clock!());
    }
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
