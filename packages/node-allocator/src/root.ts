import type { CoreInfo, EbbRoot, NodePlatform } from '@ebbrt/interfaces';
import { NodeAllocatorService } from './allocator.js';
import type { NodeAllocatorOptions } from './options.js';
import { NodeAllocatorRep } from './rep.js';

/** One service per front-end; every core's rep shares it (the front-end's cores share a thread). */
export class NodeAllocatorRoot implements EbbRoot<NodeAllocatorRep> {
  readonly service: NodeAllocatorService;
  private readonly reps = new Map<number, NodeAllocatorRep>();

  constructor(platform: NodePlatform, options: NodeAllocatorOptions, log: (line: string) => void) {
    this.service = new NodeAllocatorService(platform, options, log);
  }

  handleFault(core: CoreInfo): NodeAllocatorRep {
    let rep = this.reps.get(core.index);
    if (rep === undefined) {
      rep = new NodeAllocatorRep(this.service);
      this.reps.set(core.index, rep);
    }
    return rep;
  }
}
