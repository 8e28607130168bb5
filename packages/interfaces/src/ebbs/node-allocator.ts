export interface NodeRequest {
  cores: number;
  memoryBytes: number;
  args?: readonly string[];
}

export interface NodeDescriptor {
  /** Settles once the node booted, received its runtime info and reported back. */
  readonly networkId: Promise<number>;
  /**
   * Settles with the cause if the node dies while it is allocated (crash, power loss, its process
   * exits), resuming on the core that allocated it; never settles if the node is freed first.
   * What an elastic Ebb watches to fail the work it had on the node.
   */
  readonly died: Promise<Error>;
}

/** Acquires, boots and frees back-end nodes. */
export interface NodeAllocator {
  allocateNode(image: string, request: NodeRequest): NodeDescriptor;
  freeNode(networkId: number): Promise<void>;
  freeAll(): Promise<void>;
  /** Network ids of the nodes allocated and alive now (the allocator's live count is its length). */
  liveNodes(): readonly number[];
}

/** The machine a node needs. */
export interface NodeShape {
  readonly cores: number;
  readonly memoryBytes: number;
}

/** What a node learns when it is handed out: which program to run, and with which arguments. */
export interface NodeRuntimeInfo {
  /** The back-end entry module (the "image"), relative to the application directory. */
  readonly image: string;
  readonly args: readonly string[];
}

/**
 * A node that has booted its system Ebbs but runs no application yet: a member of the dormant
 * pool, or a cold boot on its way to being handed out.
 */
export interface DormantNode {
  readonly networkId: number;
  readonly shape: NodeShape;
  /**
   * Hands the node its runtime info and starts its image. Resolves once the node has reported
   * back; rejects (the node is then destroyed by the caller) if it cannot.
   */
  activate(info: NodeRuntimeInfo): Promise<void>;
  /** Powers the node off and releases everything it held. Idempotent. */
  destroy(): Promise<void>;
  /** Resolves with the cause if the node dies by itself (crash, power loss, its process exits). */
  readonly died: Promise<Error>;
}

/**
 * Where nodes come from: the seam between the NodeAllocator Ebb and the hosting platform the
 * runtime provides (simulated machines in this process, one OS process per node, ...).
 */
export interface NodePlatform {
  /** Short name for logs and errors, e.g. 'in-process'. */
  readonly kind: string;
  /** Boots a dormant node of `shape`. Rejects with a clear error, leaving nothing behind. */
  boot(shape: NodeShape): Promise<DormantNode>;
}
