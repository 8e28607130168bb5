/**
 * The matrix Ebb's front-end rep: the directory of every distributed matrix of this front-end,
 * the tile nodes it holds (allocated through the NodeAllocator on first touch, shared by tiles of
 * several matrices per the placement, freed when the last matrix on them goes), and the table of
 * requests awaiting a tile node's reply. Node deaths break the matrices that had tiles there.
 */
import { EbbRef, cpu, currentCore, staticEbbId, type CoreContext } from '@ebbrt/core-translation';
import {
  SystemEbbIds,
  type CorePromise,
  type EbbId,
  type EventManager,
  type IOBuf,
  type Messenger,
  type NodeAllocator,
} from '@ebbrt/interfaces';
import type { AbstractMatrix } from 'ml-matrix';
import { MatrixError, MatrixTileError } from './errors.js';
import { DistMatrix } from './matrix.js';
import { writeMatrix } from './ml.js';
import { perTile, type Placement } from './placement.js';
import { Tiling } from './tiling.js';
import { blank, decode, encode, MATRIX_TYPE, Op, payloadFloats, payloadText, type Decoded, type Header } from './wire.js';

/** The matrix Ebb's id on every node (front-end and tile nodes). */
export const MATRIX_EBB_ID: EbbId = staticEbbId('ebbrt.matrix');

export interface MatrixSpaceOptions {
  /** Edge of a square tile, in elements (default 512: a 2 MiB tile). */
  tileSize?: number;
  /** Where tiles go (default {@link perTile}). */
  placement?: Placement;
  /** The machine of a tile node (default 1 core, 16 MiB: tiles live on the node process's heap). */
  nodeShape?: { cores: number; memoryBytes: number };
  /** The tile nodes' image (default: this package's node-image module). */
  image?: string;
  /**
   * How code outside any event enters the home core (a REPL line, the FinalizationRegistry):
   * an app passes `ctx.post`. Without it such calls throw, and collected matrices are not freed.
   */
  post?: (fn: () => void) => void;
  /** Default: this node's NodeAllocator (well-known id). */
  allocator?: NodeAllocator;
  /** Default: this node's Messenger (well-known id). */
  messenger?: Messenger;
  /** An op that would hold more nodes than this fails before allocating (default 1024). */
  maxNodes?: number;
}

/** What the space keeps of a matrix: no reference to its handle, so the handle can be collected. */
export interface MatrixState {
  readonly id: number;
  readonly tiling: Tiling;
  /** Tile key -> the node holding it (touched tiles only; untouched tiles are zero). */
  readonly tiles: Map<number, number>;
  broken: Error | undefined;
  freed: boolean;
}

interface NodeEntry {
  readonly slot: string;
  /** Matrix id -> tiles of it on this node. */
  readonly holders: Map<number, number>;
}

interface Pending {
  readonly result: CorePromise<Decoded>;
  /** The nodes the request depends on, and which tile each stands for (for the error). */
  readonly involved: readonly { node: number; matrix: number; ti: number; tj: number }[];
}

/** Counts for tests and the console. */
export interface SpaceStats {
  matrices: number;
  nodes: number;
  requests: number;
  tilesMoved: number;
  bytesMoved: number;
}

/**
 * A tile node's machine. Tiles live on the node's JS heap, but every tile that arrives crosses
 * the node's simulated NIC into its physical memory first (one message per tile, several peers
 * at once), so memory scales with the tile: at least 64 MiB, or 12 tiles' worth.
 */
function defaultShape(tileSize: number): { cores: number; memoryBytes: number } {
  const tileBytes = tileSize * tileSize * 8;
  return { cores: 1, memoryBytes: Math.max(64 << 20, Math.ceil((tileBytes * 12) / (1 << 20)) << 20) };
}

function defaultImage(): string {
  // Beside this module: node-image.ts from source, node-image.js once built.
  const here = new URL(import.meta.url);
  const ext = here.pathname.endsWith('.ts') ? '.ts' : '.js';
  return decodeURIComponent(new URL(`./node-image${ext}`, here).pathname);
}

export class MatrixSpace {
  readonly home: CoreContext;
  readonly tileSize: number;
  readonly placement: Placement;
  readonly maxNodes: number;
  readonly stats: SpaceStats = { matrices: 0, nodes: 0, requests: 0, tilesMoved: 0, bytesMoved: 0 };
  private readonly image: string;
  private readonly shape: { cores: number; memoryBytes: number };
  private readonly post: ((fn: () => void) => void) | undefined;
  private readonly allocator: NodeAllocator;
  private readonly messenger: Messenger;
  private readonly events = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  private readonly matrices = new Map<number, MatrixState>();
  private readonly nodeTable = new Map<number, NodeEntry>();
  private readonly slots = new Map<string, Promise<number>>();
  private readonly pending = new Map<number, Pending>();
  private nextMatrix = 1;
  private nextReq = 1;
  /** The backstop: a handle collected without free() gives back its nodes. */
  readonly finalizer = new FinalizationRegistry<number>((id) => this.collected(id));

  constructor(options: MatrixSpaceOptions = {}) {
    this.home = currentCore();
    this.tileSize = options.tileSize ?? 512;
    this.placement = options.placement ?? perTile();
    this.maxNodes = options.maxNodes ?? 1024;
    this.image = options.image ?? defaultImage();
    this.shape = options.nodeShape ?? defaultShape(this.tileSize);
    this.post = options.post;
    this.allocator = options.allocator ?? new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();
    this.messenger = options.messenger ?? new EbbRef<Messenger>(SystemEbbIds.Messenger).deref();
    new Tiling(1, 1, this.tileSize); // validates tileSize, naming it
    this.messenger.register(MATRIX_EBB_ID, (from, _type, message) => this.receive(from, message));
  }

  /** Runs `fn` on the home core: directly when already there, else posted (REPL, finalizer). */
  enter<T>(fn: () => Promise<T>): Promise<T> {
    if (cpu.current === this.home) return fn();
    const post = this.post;
    if (post === undefined) {
      return Promise.reject(new MatrixError('a matrix op was called outside an event of its front-end: create the space with { post: ctx.post }'));
    }
    return new Promise<T>((resolve, reject) =>
      post(() => {
        try {
          fn().then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      }),
    );
  }

  /** A lazy all-zero matrix: no node until a tile is touched. */
  zeros(rows: number, cols: number, tileSize = this.tileSize): DistMatrix {
    return new DistMatrix(this, this.newMatrix(new Tiling(rows, cols, tileSize)));
  }

  /** A matrix of seeded uniform [0, 1) values (every tile touched). */
  random(rows: number, cols: number, seed: number, tileSize = this.tileSize): Promise<DistMatrix> {
    return this.zeros(rows, cols, tileSize).randomize(seed);
  }

  /** A distributed copy of an ml-matrix (all-zero tiles stay untouched: no node). */
  fromMatrix(m: AbstractMatrix, tileSize = this.tileSize): Promise<DistMatrix> {
    return this.enter(async () => {
      const dm = this.zeros(m.rows, m.columns, tileSize);
      try {
        await writeMatrix(dm, m);
      } catch (error) {
        await this.release(dm.state);
        throw error;
      }
      return dm;
    });
  }

  newMatrix(tiling: Tiling): MatrixState {
    const state: MatrixState = { id: this.nextMatrix++, tiling, tiles: new Map(), broken: undefined, freed: false };
    this.matrices.set(state.id, state);
    this.stats.matrices = this.matrices.size;
    return state;
  }

  /** Network ids of the tile nodes this space holds, ascending. */
  nodes(): number[] {
    return [...this.nodeTable.keys()].sort((a, b) => a - b);
  }

  /** Distinct nodes holding tiles of `state`, ascending. */
  nodesOf(state: MatrixState): number[] {
    return [...new Set(state.tiles.values())].sort((a, b) => a - b);
  }

  /** Throws if the matrix can no longer be used. */
  usable(state: MatrixState): void {
    if (state.freed) throw new MatrixError(`matrix #${state.id} was freed`, 'MATRIX_FREED');
    if (state.broken !== undefined) throw state.broken;
  }

  /** Fails, before allocating anything, an op touching `tiles` new tiles that could take the space over maxNodes nodes. */
  checkBudget(tiles: number, what: string): void {
    const extra = this.placement.newNodes(tiles, this.nodeTable.size);
    if (this.nodeTable.size + extra > this.maxNodes) {
      throw new MatrixError(`${what} would hold up to ${this.nodeTable.size + extra} nodes, over maxNodes ${this.maxNodes}`, 'MATRIX_TOO_MANY_NODES');
    }
  }

  /** The node of tile (ti, tj), allocating it (per the placement) on first touch. */
  async nodeFor(state: MatrixState, ti: number, tj: number): Promise<number> {
    const key = state.tiling.key(ti, tj);
    const known = state.tiles.get(key);
    if (known !== undefined) return known;
    const slot = this.placement.slot(state.id, state.tiling, ti, tj);
    let node = this.slots.get(slot);
    if (node === undefined) {
      const descriptor = this.allocator.allocateNode(this.image, this.shape);
      node = descriptor.networkId.then((id) => {
        this.nodeTable.set(id, { slot, holders: new Map() });
        this.stats.nodes = this.nodeTable.size;
        void descriptor.died.then((cause) => this.died(id, cause));
        return id;
      });
      this.slots.set(slot, node);
      node.catch(() => this.slots.delete(slot));
    }
    let id: number;
    try {
      id = await node;
    } catch (error) {
      throw new MatrixError(`tile (${ti}, ${tj}) of matrix #${state.id}: no node for it: ${(error as Error).message}`, 'MATRIX_NO_NODE');
    }
    if (state.freed || state.broken !== undefined) {
      // Freed or broken while the node came up: give the node back unless someone holds it.
      await this.releaseIfIdle(id);
      this.usable(state);
    }
    if (!state.tiles.has(key)) {
      state.tiles.set(key, id);
      const holders = this.nodeTable.get(id)!.holders;
      holders.set(state.id, (holders.get(state.id) ?? 0) + 1);
    }
    return state.tiles.get(key)!;
  }

  /** Sends a request to `node` and resolves with its reply; rejects naming the tile on error or death. */
  request(node: number, h: Header, data?: Float64Array, involved?: Pending['involved']): Promise<Decoded> {
    const req = this.nextReq;
    this.nextReq = this.nextReq >= 0xffffffff ? 1 : this.nextReq + 1;
    h.req = req;
    const result = this.events.deref().promise<Decoded>();
    this.pending.set(req, { result, involved: involved ?? [{ node, matrix: h.matrix, ti: h.ti, tj: h.tj }] });
    this.stats.requests++;
    if (data !== undefined && h.op === Op.write) {
      this.stats.tilesMoved++;
      this.stats.bytesMoved += data.byteLength;
    }
    this.send(node, req, h, data);
    return result.promise;
  }

  /** Sends without awaiting a reply of its own (a `ship` for job `req`); a failed send fails `req`. */
  send(node: number, req: number, h: Header, data?: Float64Array): void {
    this.messenger.send(node, MATRIX_EBB_ID, MATRIX_TYPE, encode(h, data)).catch((error: unknown) => {
      this.fail(req, node, (error as Error).message);
    });
  }

  /** A request id for a job whose reply comes from another node than the one first sent to. */
  allocateReq(involved: Pending['involved']): { req: number; done: Promise<Decoded> } {
    const req = this.nextReq;
    this.nextReq = this.nextReq >= 0xffffffff ? 1 : this.nextReq + 1;
    const result = this.events.deref().promise<Decoded>();
    this.pending.set(req, { result, involved });
    this.stats.requests++;
    return { req, done: result.promise };
  }

  /** Counts a tile moved node to node (for the bench's per-tile cost). */
  countMove(elements: number): void {
    this.stats.tilesMoved++;
    this.stats.bytesMoved += elements * 8;
  }

  private receive(from: number, message: IOBuf): void {
    let d: Decoded;
    try {
      d = decode(message);
    } catch {
      return; // a malformed message cannot be matched to a request: drop it
    }
    const p = this.pending.get(d.h.req);
    if (p === undefined) return; // late: its request already failed
    this.pending.delete(d.h.req);
    if (d.h.op === Op.error) {
      const who = p.involved.find((i) => i.node === from) ?? p.involved[0]!;
      p.result.reject(new MatrixTileError(`tile (${d.h.ti}, ${d.h.tj}) of matrix #${d.h.matrix} on node ${from}: ${payloadText(d)}`, who.matrix, [d.h.ti, d.h.tj], from));
    } else {
      p.result.resolve(d);
    }
  }

  private fail(req: number, node: number, why: string): void {
    const p = this.pending.get(req);
    if (p === undefined) return;
    this.pending.delete(req);
    const who = p.involved.find((i) => i.node === node) ?? p.involved[0]!;
    p.result.reject(new MatrixTileError(`tile (${who.ti}, ${who.tj}) of matrix #${who.matrix} on node ${node}: ${why}`, who.matrix, [who.ti, who.tj], node));
  }

  /** A tile node died: fail what waited on it, break every matrix with a tile there, free their other nodes. */
  private died(node: number, cause: Error): void {
    const entry = this.nodeTable.get(node);
    if (entry === undefined) return;
    this.nodeTable.delete(node);
    this.slots.delete(entry.slot);
    this.stats.nodes = this.nodeTable.size;
    for (const [req, p] of [...this.pending]) {
      if (p.involved.some((i) => i.node === node)) this.fail(req, node, `node died: ${cause.message}`);
    }
    for (const matrixId of entry.holders.keys()) {
      const state = this.matrices.get(matrixId);
      if (state === undefined) continue;
      let tile: [number, number] = [0, 0];
      for (const [key, n] of state.tiles) {
        if (n === node) {
          tile = [state.tiling.ti(key), state.tiling.tj(key)];
          break;
        }
      }
      state.broken = new MatrixTileError(`matrix #${matrixId} lost tile (${tile[0]}, ${tile[1]}): node ${node} died: ${cause.message}`, matrixId, tile, node);
      for (const [key, n] of [...state.tiles]) if (n === node) state.tiles.delete(key);
      void this.release(state).catch(() => undefined);
    }
  }

  /** Gives back every node of `state` (dropping its tiles there first); idempotent. */
  async release(state: MatrixState): Promise<void> {
    if (!this.matrices.has(state.id)) return;
    this.matrices.delete(state.id);
    this.stats.matrices = this.matrices.size;
    state.freed ||= state.broken === undefined;
    // Work that needs this matrix's tiles cannot finish once they are dropped: fail it now.
    for (const [req, p] of [...this.pending]) {
      const hit = p.involved.find((i) => i.matrix === state.id);
      if (hit === undefined) continue;
      if (state.broken !== undefined) {
        this.pending.delete(req);
        p.result.reject(state.broken);
      } else {
        this.fail(req, hit.node, `matrix #${state.id} was freed while the op needed it`);
      }
    }
    const nodes = this.nodesOf(state);
    state.tiles.clear();
    await Promise.all(
      nodes.map(async (node) => {
        const entry = this.nodeTable.get(node);
        if (entry === undefined) return; // died meanwhile
        entry.holders.delete(state.id);
        if (entry.holders.size > 0) {
          // Others still hold tiles here: drop only ours, so nothing of this matrix stays behind.
          await this.request(node, { ...blank(), op: Op.drop, matrix: state.id }).catch(() => undefined);
        } else {
          await this.releaseIfIdle(node);
        }
      }),
    );
  }

  private async releaseIfIdle(node: number): Promise<void> {
    const entry = this.nodeTable.get(node);
    if (entry === undefined || entry.holders.size > 0) return;
    this.nodeTable.delete(node);
    this.slots.delete(entry.slot);
    this.stats.nodes = this.nodeTable.size;
    // Nothing will answer from a freed node (a drop racing the last holder's release).
    for (const [req, p] of [...this.pending]) if (p.involved.some((i) => i.node === node)) this.fail(req, node, 'the node was freed');
    await this.allocator.freeNode(node).catch(() => undefined);
  }

  private collected(id: number): void {
    const state = this.matrices.get(id);
    if (state === undefined || this.post === undefined) return;
    // The finalizer runs outside any event: free on the home core.
    void this.enter(() => this.release(state)).catch(() => undefined);
  }

  /** Frees every matrix and node of the space. */
  close(): Promise<void> {
    return this.enter(async () => {
      await Promise.all([...this.matrices.values()].map((s) => this.release(s)));
    });
  }

  /** The [start, end] wall-clock windows (ms) of a tile node's recent jobs, if its image gave it a clock. */
  jobWindows(node: number): Promise<[number, number][]> {
    return this.enter(async () => {
      const d = await this.request(node, { ...blank(), op: Op.windows });
      const w = payloadFloats(d, d.h.cols);
      const out: [number, number][] = [];
      for (let i = 0; i + 1 < w.length; i += 2) out.push([w[i]!, w[i + 1]!]);
      return out;
    });
  }

  /** What a tile node holds (for tests): matrices with tiles there, tiles, bytes, jobs in progress. */
  nodeStats(node: number): Promise<{ matrices: number; tiles: number; bytes: number; jobs: number }> {
    return this.enter(async () => {
      const d = await this.request(node, { ...blank(), op: Op.stats });
      return { matrices: d.h.a, tiles: d.h.b, bytes: d.h.x, jobs: d.h.y };
    });
  }
}
