import type { LocalNode, LocalNodeHost, ManagedPlatform, NodeIntrospection, NodeRuntimeInfo, NodeShape, PlatformNode } from '@ebbrt/interfaces';

/**
 * Back-ends as simulated machines in the front-end's process. The runtime boots each machine and
 * its system Ebbs (`LocalNodeHost`); this platform numbers the nodes, keeps the live ones, and
 * turns a kill into a death the NodeAllocator sees.
 */
export class InProcessPlatform implements ManagedPlatform {
  readonly kind = 'in-process';
  private nextId = 1;
  private readonly nodes = new Map<number, InProcessNode>();
  private readonly activatedListeners: ((node: PlatformNode) => void)[] = [];

  constructor(private readonly local: LocalNodeHost) {}

  async boot(shape: NodeShape): Promise<InProcessNode> {
    const id = this.nextId++;
    const node = new InProcessNode(id, shape, await this.local.boot(id, shape), this);
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): InProcessNode | undefined {
    return this.nodes.get(id);
  }

  get liveNodes(): readonly InProcessNode[] {
    return [...this.nodes.values()];
  }

  onActivated(listener: (node: PlatformNode) => void): void {
    this.activatedListeners.push(listener);
  }

  /** @internal */
  activated(node: InProcessNode): void {
    for (const l of this.activatedListeners) l(node);
  }

  /** @internal */
  forget(node: InProcessNode): void {
    this.nodes.delete(node.networkId);
  }
}

export class InProcessNode implements PlatformNode {
  destroyed = false;
  /** True once its image was started (the agent event is queued): no longer a dormant pool member. */
  activated = false;
  readonly died: Promise<Error>;
  private markDied!: (cause: Error) => void;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    private readonly local: LocalNode,
    private readonly platform: InProcessPlatform,
  ) {
    this.died = new Promise((resolve) => (this.markDied = resolve));
  }

  activate(info: NodeRuntimeInfo): Promise<void> {
    return this.local.activate(info, () => {
      this.activated = true;
      this.platform.activated(this);
    });
  }

  /** Its Ebbs' stats, read now from this process's machine (a dead node's roots still answer). */
  introspect(): Promise<NodeIntrospection> {
    if (this.destroyed) return Promise.reject(new Error(`node ${this.networkId} was destroyed`));
    return Promise.resolve(this.local.introspect());
  }

  /** Simulates a crash: the machine loses power (its cores stop); the allocator then frees it. */
  kill(reason = 'killed'): void {
    if (this.destroyed) return;
    this.local.powerOff();
    this.markDied(new Error(reason));
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.platform.forget(this);
    this.local.release();
  }
}
