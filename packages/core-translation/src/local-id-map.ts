import { UsageError, type EbbId, type EbbRoot } from '@ebbrt/interfaces';

/**
 * Node-wide table from EbbId to the Ebb's root: what all reps of an Ebb on a
 * node share, and the fault handler that makes a rep for a core.
 */
export class LocalIdMap {
  private readonly roots = new Map<EbbId, EbbRoot<unknown>>();

  /** Installs a root; installing over an existing id is an error (ids are never reused while live). */
  set(id: EbbId, root: EbbRoot<unknown>): void {
    if (this.roots.has(id)) throw new UsageError(`LocalIdMap: id 0x${id.toString(16)} already has a root`);
    this.roots.set(id, root);
  }

  get(id: EbbId): EbbRoot<unknown> | undefined {
    return this.roots.get(id);
  }

  has(id: EbbId): boolean {
    return this.roots.has(id);
  }

  delete(id: EbbId): boolean {
    return this.roots.delete(id);
  }

  get size(): number {
    return this.roots.size;
  }

  /** The installed ids, in install order (a tool lists a node's Ebbs; not for hot paths). */
  ids(): EbbId[] {
    return [...this.roots.keys()];
  }
}
