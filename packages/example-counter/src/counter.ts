import type { CoreInfo } from '@ebbrt/interfaces';
import { EbbRef, MulticoreEbb, MulticoreRoot, type CreateOptions } from '@ebbrt/core-translation';

/** What callers see through `EbbRef<CounterRep>.deref()`. */
export interface CounterRep {
  /** Adds `by` to this core's count. Touches only this core's rep: no sharing, no locks. */
  increment(by?: number): void;
  /** This core's count. */
  getNumCore(): number;
  /** The sum over every rep on this node, read through the root (EbbRT's gather-on-read). */
  getNumNode(): number;
}

/** The per-core rep. Each core writes only its own `count`; readers sum over siblings. */
export class CounterRepImpl implements CounterRep {
  private count = 0;

  constructor(private readonly root: MulticoreRoot<CounterRepImpl>) {}

  increment(by = 1): void {
    this.count += by;
  }

  getNumCore(): number {
    return this.count;
  }

  getNumNode(): number {
    // Index loop over the root's slots rather than reps()/forEachRep: no array or
    // closure per call. A core that never used the counter has no rep and adds 0.
    let sum = 0;
    for (let i = 0; i < this.root.node.numCores; i++) sum += this.root.repOn(i)?.count ?? 0;
    return sum;
  }
}

/** The fault handler's rep factory: one fresh rep per core, wired to the node's root. */
export function makeCounterRep(_core: CoreInfo, root: MulticoreRoot<CounterRepImpl>): CounterRepImpl {
  return new CounterRepImpl(root);
}

/**
 * Creates a per-core counter on a node (default: the current core's node) and
 * returns its EbbRef. Reps are made lazily, the first time each core derefs it.
 */
export function createCounter(options: CreateOptions<undefined> = {}): EbbRef<CounterRep> {
  return MulticoreEbb.create<CounterRepImpl>(makeCounterRep, options);
}
