import { NoCurrentCoreError, isValidEbbId, type EbbId } from '@ebbrt/interfaces';
import { cpu } from './cpu.js';
import type { CoreContext } from './core-context.js';

/**
 * A reference to an Ebb. `deref()` returns the rep for the calling core: it
 * reads the core's translation table and, on a miss, calls the Ebb's fault
 * handler (once per core).
 *
 * Each EbbRef also remembers the last (core, rep) pair it translated, so the
 * common case, the same ref used again on the same core, costs one load and one
 * compare: this is what brings a call through an EbbRef near a direct call.
 */
export class EbbRef<T> {
  // `null` never equals a real core, nor `undefined` (no core current).
  private lastCore: CoreContext | null = null;
  private lastRep: T | undefined = undefined;

  constructor(readonly id: EbbId) {
    if (!isValidEbbId(id)) throw new RangeError(`EbbRef: ${id} is not a valid EbbId (1 .. 2^32-1)`);
  }

  deref(): T {
    const core = cpu.current;
    if (core === this.lastCore) return this.lastRep as T;
    return this.translate(core);
  }

  private translate(core: CoreContext | undefined): T {
    if (core === undefined) throw new NoCurrentCoreError(this.id);
    let rep = core.translation.get(this.id) as T | undefined;
    if (rep === undefined) rep = core.node.fault(this.id, core) as T;
    this.lastCore = core;
    this.lastRep = rep;
    return rep;
  }

  toString(): string {
    return `EbbRef(0x${this.id.toString(16)})`;
  }
}

/** Shorthand for `new EbbRef<T>(id)`. */
export function ebbRef<T>(id: EbbId): EbbRef<T> {
  return new EbbRef<T>(id);
}

/** The rep type behind an EbbRef. */
export type RepOf<R> = R extends EbbRef<infer T> ? T : never;
