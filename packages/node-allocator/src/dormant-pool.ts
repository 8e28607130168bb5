import type { DormantNode, NodePlatform, NodeShape } from '@ebbrt/interfaces';

export interface PoolStats {
  /** Nodes booted into the pool, ever. */
  booted: number;
  /** Nodes handed out from the pool. */
  handedOut: number;
  /** Background boots that failed (the pool then stops refilling until the next take). */
  bootFailures: number;
  /** Pooled nodes that died while dormant (replaced). */
  diedDormant: number;
}

/**
 * Pre-booted dormant nodes of one shape, handed out at once (the paper's answer to sub-second
 * node allocation in an IaaS). Taking a node starts booting its replacement in the background.
 */
export class DormantPool {
  readonly stats: PoolStats = { booted: 0, handedOut: 0, bootFailures: 0, diedDormant: 0 };
  private readonly ready: DormantNode[] = [];
  private booting = 0;
  private closed = false;
  private failing = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly platform: NodePlatform,
    readonly shape: NodeShape,
    readonly size: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Dormant nodes ready now. */
  get available(): number {
    return this.ready.length;
  }

  /** Whether a request of `shape` can come from this pool. */
  fits(shape: NodeShape): boolean {
    return shape.cores === this.shape.cores && shape.memoryBytes === this.shape.memoryBytes;
  }

  /** Starts booting nodes until `size` are ready or booting. */
  fill(): void {
    while (!this.closed && !this.failing && this.ready.length + this.booting < this.size) {
      this.booting++;
      this.platform.boot(this.shape).then(
        (node) => this.admit(node),
        (error: unknown) => {
          this.booting--;
          this.stats.bootFailures++;
          this.failing = true;
          this.log(`node pool: booting a dormant ${this.shape.cores}-core node failed: ${(error as Error).message ?? String(error)}`);
          this.wake();
        },
      );
    }
  }

  /** Resolves once the pool holds `size` nodes (or gave up): for a warm start. */
  whenFull(): Promise<void> {
    if (this.ready.length >= this.size || this.failing || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * A dormant node, or undefined if none is ready. The caller refills ({@link fill}) once its
   * allocation is done: booting a replacement at once would compete with handing this one out.
   */
  take(): DormantNode | undefined {
    const node = this.ready.shift();
    if (node !== undefined) this.stats.handedOut++;
    this.failing = false;
    return node;
  }

  /** Destroys every dormant node and stops refilling. */
  async close(): Promise<void> {
    this.closed = true;
    const nodes = this.ready.splice(0);
    await Promise.all(nodes.map((n) => n.destroy()));
    this.wake();
  }

  private admit(node: DormantNode): void {
    this.booting--;
    if (this.closed) {
      void node.destroy();
      return;
    }
    this.stats.booted++;
    this.ready.push(node);
    node.died.then((cause) => {
      const i = this.ready.indexOf(node);
      if (i < 0) return; // handed out: the allocator watches it now
      this.ready.splice(i, 1);
      this.stats.diedDormant++;
      this.log(`node pool: dormant node ${node.networkId} died (${cause.message}); replacing it`);
      void node.destroy();
      this.fill();
    });
    if (this.ready.length >= this.size) this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
