import { UsageError, type NodeAllocator, type NodeDescriptor } from '@ebbrt/interfaces';

/**
 * A NodeAllocator over a fixed set of already-booted nodes: for a coordinator on a back-end
 * under the virtual clock, where the front-end's NodeAllocator cannot be reached over the
 * Messenger. "Allocating" hands out a free node; freeing returns it.
 */
export class StaticAllocator implements NodeAllocator {
  private readonly free: number[];
  private readonly live = new Set<number>();
  allocations = 0;

  constructor(nodes: readonly number[]) {
    this.free = [...nodes];
  }

  allocateNode(): NodeDescriptor {
    const id = this.free.shift();
    this.allocations++;
    if (id !== undefined) this.live.add(id);
    return {
      networkId: id === undefined ? Promise.reject(new UsageError('StaticAllocator: no free node')) : Promise.resolve(id),
      died: new Promise<Error>(() => undefined),
    };
  }

  async freeNode(networkId: number): Promise<void> {
    if (!this.live.delete(networkId)) throw new UsageError(`freeNode(${networkId}): not allocated`);
    this.free.push(networkId);
    this.free.sort((a, b) => a - b);
  }

  async freeAll(): Promise<void> {
    for (const id of [...this.live]) await this.freeNode(id);
  }

  liveNodes(): readonly number[] {
    return [...this.live].sort((a, b) => a - b);
  }
}
