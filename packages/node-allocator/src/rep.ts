import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type EventManager, type NodeAllocator, type NodeDescriptor, type NodeRequest } from '@ebbrt/interfaces';
import type { NodeAllocatorService } from './allocator.js';

const events = new EbbRef<EventManager>(SystemEbbIds.EventManager);

/**
 * A core's NodeAllocator rep. Allocation completes outside this core (the platform boots the
 * node elsewhere), so results come back through a CorePromise: whoever settles it, the caller's
 * continuation resumes on the core that called.
 */
export class NodeAllocatorRep implements NodeAllocator {
  constructor(private readonly service: NodeAllocatorService) {}

  allocateNode(image: string, request: NodeRequest): NodeDescriptor {
    const died = events.deref().promise<Error>();
    return { networkId: this.onThisCore(this.service.allocate(image, request, died.resolve)), died: died.promise };
  }

  freeNode(networkId: number): Promise<void> {
    return this.onThisCore(this.service.free(networkId));
  }

  freeAll(): Promise<void> {
    return this.onThisCore(this.service.freeAll());
  }

  /** Resolves once the dormant pool is full (at once without a pool): for a warm start. */
  whenPoolReady(): Promise<void> {
    return this.onThisCore(this.service.pool?.whenFull() ?? Promise.resolve());
  }

  /** Network ids of the live allocated nodes. */
  liveNodes(): number[] {
    return this.service.liveNodes();
  }

  private onThisCore<T>(work: Promise<T>): Promise<T> {
    const result = events.deref().promise<T>();
    work.then(result.resolve, result.reject);
    return result.promise;
  }
}
