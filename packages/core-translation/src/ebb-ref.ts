import { NoCurrentCoreError, isValidEbbId, type EbbId } from '@ebbrt/interfaces';
import { cacheForCore, cpu, type CoreCache } from './cpu.js';
import type { CoreContext } from './core-context.js';

/**
 * A reference to an Ebb. `deref()` returns the rep for the calling core: it
 * reads the core's translation table and, on a miss, calls the Ebb's fault
 * handler (once per core).
 *
 * Each EbbRef also caches the rep it translated on the current core, so the
 * common case, the same ref used again within an event, is one field load and
 * one compare with `undefined`: this is what brings a call through an EbbRef
 * near a direct call. The cache belongs to the core, not to the ref: the
 * register lists the refs that cached a translation and clears them all when
 * another core (or none) becomes current (see `cpu.ts`; every write of the
 * register goes through that clearing, so a rep held here is always the current
 * core's). So a module-level ref shared by every node in the process holds at
 * most the running core's translation, and never keeps a freed node reachable.
 * A fault handler that returns `undefined` is never cached: each deref faults.
 */
export class EbbRef<T> implements CoreCache {
  private lastRep: T | undefined = undefined;

  constructor(readonly id: EbbId) {
    if (!isValidEbbId(id)) throw new RangeError(`EbbRef: ${id} is not a valid EbbId (1 .. 2^32-1)`);
  }

  deref(): T {
    // The miss branch first and the hit as the fall-through: measured 1.6x against 1.8x for `??`.
    const rep = this.lastRep;
    if (rep === undefined) return this.translate(cpu.current);
    return rep;
  }

  private translate(core: CoreContext | undefined): T {
    if (core === undefined) throw new NoCurrentCoreError(this.id);
    let rep = core.translation.get(this.id) as T | undefined;
    if (rep === undefined) rep = core.node.fault(this.id, core) as T;
    // The fault may have entered other cores and come back (each entry cleared every ref's
    // cache, this one's included); cache only for the core current now.
    if (cpu.current === core) this.cache(core, rep);
    return rep;
  }

  private cache(core: CoreContext, rep: T): void {
    if (rep === undefined) return;
    cacheForCore(this, core);
    this.lastRep = rep;
  }

  /** Called through the register when the core this ref cached for is left. */
  forgetCore(): void {
    this.lastRep = undefined;
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
