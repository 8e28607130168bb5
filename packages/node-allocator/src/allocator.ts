import {
  NodeAllocationError,
  UsageError,
  type DormantNode,
  type NodePlatform,
  type NodeRequest,
  type NodeShape,
} from '@ebbrt/interfaces';
import { withDeadline } from './deadline.js';
import { DormantPool } from './dormant-pool.js';
import type { NodeAllocatorOptions } from './options.js';

export interface AllocatorStats {
  allocated: number;
  /** Allocations served by a dormant node. */
  fromPool: number;
  /** Allocations that booted a node cold. */
  coldBoots: number;
  failed: number;
  freed: number;
  /** Nodes that died while allocated. */
  died: number;
  live: number;
}

/**
 * The front-end's node bookkeeping, shared by the NodeAllocator's reps: live nodes by network
 * id, the dormant pool, and the platform that boots nodes. Every failure path destroys the node it
 * was working on, so no half-booted node is left running.
 */
export class NodeAllocatorService {
  readonly stats: AllocatorStats = { allocated: 0, fromPool: 0, coldBoots: 0, failed: 0, freed: 0, died: 0, live: 0 };
  readonly pool: DormantPool | undefined;
  private readonly live = new Map<number, DormantNode>();
  /** Allocations in flight, so freeAll can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    readonly platform: NodePlatform,
    private readonly options: NodeAllocatorOptions,
    private readonly log: (line: string) => void,
  ) {
    if (options.poolSize > 0) {
      if (options.poolShape === undefined) throw new UsageError('@ebbrt/node-allocator: poolSize needs poolShape ({ cores, memoryBytes })');
      this.pool = new DormantPool(platform, options.poolShape, options.poolSize, log);
      this.pool.fill();
    }
  }

  /** Network ids of the nodes allocated and alive. */
  liveNodes(): number[] {
    return [...this.live.keys()];
  }

  /** Boots (or takes from the pool) a node, activates it, and resolves with its network id. */
  allocate(image: string, request: NodeRequest, onDied?: (cause: Error) => void): Promise<number> {
    const shape = validate(image, request);
    const work = this.bring(image, shape, request.args ?? [], onDied);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
    return work;
  }

  private async bring(image: string, shape: NodeShape, args: readonly string[], onDied?: (cause: Error) => void): Promise<number> {
    try {
      return await this.bringNode(image, shape, args, onDied);
    } finally {
      // Replace what the pool handed out only now, so the boot does not delay the hand-out.
      this.pool?.fill();
    }
  }

  private async bringNode(image: string, shape: NodeShape, args: readonly string[], onDied?: (cause: Error) => void): Promise<number> {
    const pooled = this.pool?.fits(shape) ? this.pool.take() : undefined;
    let node: DormantNode;
    if (pooled !== undefined) {
      node = pooled;
      this.stats.fromPool++;
    } else {
      this.stats.coldBoots++;
      try {
        node = await withDeadline(this.platform.boot(shape), this.options.bootTimeoutMs, () => `booting a ${shape.cores}-core node on ${this.platform.kind} took over ${this.options.bootTimeoutMs} ms`);
      } catch (error) {
        this.stats.failed++;
        throw new NodeAllocationError(`allocateNode(${JSON.stringify(image)}): ${(error as Error).message}`, error);
      }
    }
    const id = node.networkId;
    try {
      await withDeadline(node.activate({ image, args }), this.options.bootTimeoutMs, () => `node ${id} did not report back within ${this.options.bootTimeoutMs} ms`);
    } catch (error) {
      this.stats.failed++;
      await node.destroy();
      throw new NodeAllocationError(`allocateNode(${JSON.stringify(image)}): node ${id} failed to start: ${(error as Error).message}`, error);
    }
    this.live.set(id, node);
    this.stats.allocated++;
    this.stats.live = this.live.size;
    node.died.then((cause) => {
      if (this.live.get(id) !== node) return;
      this.live.delete(id);
      this.stats.died++;
      this.stats.live = this.live.size;
      this.log(`node ${id} died: ${cause.message}`);
      void node.destroy();
      onDied?.(cause);
    });
    return id;
  }

  async free(networkId: number): Promise<void> {
    const node = this.live.get(networkId);
    if (node === undefined) throw new UsageError(`freeNode(${networkId}): no such allocated node (live: ${this.liveNodes().join(', ') || 'none'})`);
    this.live.delete(networkId);
    this.stats.freed++;
    this.stats.live = this.live.size;
    await node.destroy();
  }

  /** Frees every allocated node (waiting for allocations in flight) and the dormant pool. */
  async freeAll(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await Promise.all(this.liveNodes().map((id) => this.free(id)));
    await this.pool?.close();
  }
}

function validate(image: string, request: NodeRequest): NodeShape {
  if (typeof image !== 'string' || image.length === 0) throw new UsageError('allocateNode: image must be a non-empty string (the back-end entry module)');
  if (request === null || typeof request !== 'object') throw new UsageError('allocateNode: request must be { cores, memoryBytes, args? }');
  const { cores, memoryBytes, args } = request;
  if (!Number.isInteger(cores) || cores < 1 || cores > 256) throw new UsageError(`allocateNode: request.cores must be an integer in 1..256, got ${String(cores)}`);
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new UsageError(`allocateNode: request.memoryBytes must be a positive multiple of 4096, got ${String(memoryBytes)}`);
  }
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) {
    throw new UsageError('allocateNode: request.args must be an array of strings');
  }
  return { cores, memoryBytes };
}
