import type { CoreInfo, EbbId, EbbRoot } from '@ebbrt/interfaces';
import { currentNode } from './cpu.js';
import { placement, type CreateOptions } from './create-options.js';
import { EbbRef } from './ebb-ref.js';
import type { NodeContext } from './node-context.js';

/**
 * Root of an Ebb with one rep per core (EbbRT's MulticoreEbb). The root sees
 * every rep of its node, so a rep can aggregate over its siblings.
 */
export class MulticoreRoot<Rep, Data = undefined> implements EbbRoot<Rep> {
  private readonly repsByCore: (Rep | undefined)[];

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    readonly data: Data,
    private readonly makeRep: (core: CoreInfo, root: MulticoreRoot<Rep, Data>) => Rep,
  ) {
    this.repsByCore = new Array<Rep | undefined>(node.numCores).fill(undefined);
  }

  handleFault(core: CoreInfo): Rep {
    const rep = this.makeRep(core, this);
    this.repsByCore[core.index] = rep;
    return rep;
  }

  /** The rep of core `index`, if that core has used the Ebb. */
  repOn(index: number): Rep | undefined {
    return this.repsByCore[index];
  }

  /** Calls `fn` for every rep made so far, in core order, without allocating. */
  forEachRep(fn: (rep: Rep, core: number) => void): void {
    for (let i = 0; i < this.repsByCore.length; i++) {
      const rep = this.repsByCore[i];
      if (rep !== undefined) fn(rep, i);
    }
  }

  /** Every rep made so far, in core order. */
  reps(): Rep[] {
    return this.repsByCore.filter((r): r is Rep => r !== undefined);
  }
}

export const MulticoreEbb = {
  /** Creates a per-core Ebb: each core that uses it gets its own rep from `makeRep`. */
  create<Rep, Data = undefined>(
    makeRep: (core: CoreInfo, root: MulticoreRoot<Rep, Data>) => Rep,
    options: CreateOptions<Data> = {},
  ): EbbRef<Rep> {
    const { node, id } = placement(options);
    node.install(id, new MulticoreRoot<Rep, Data>(node, id, options.data as Data, makeRep));
    return new EbbRef<Rep>(id);
  },

  /** The root of a per-core Ebb installed on `node`. */
  rootOf<Rep, Data = undefined>(ref: EbbRef<Rep>, node: NodeContext = currentNode()): MulticoreRoot<Rep, Data> {
    const root = node.localIdMap.get(ref.id);
    if (!(root instanceof MulticoreRoot)) {
      throw new TypeError(`${ref} on ${node} is not a MulticoreEbb`);
    }
    return root as MulticoreRoot<Rep, Data>;
  },
};

