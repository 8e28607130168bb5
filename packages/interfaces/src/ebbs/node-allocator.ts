export interface NodeRequest {
  cores: number;
  memoryBytes: number;
  args?: readonly string[];
}

export interface NodeDescriptor {
  /** Settles once the node booted, received its runtime info and reported back. */
  readonly networkId: Promise<number>;
}

/** Acquires, boots and frees back-end nodes. */
export interface NodeAllocator {
  allocateNode(image: string, request: NodeRequest): NodeDescriptor;
  freeNode(networkId: number): Promise<void>;
  freeAll(): Promise<void>;
}
