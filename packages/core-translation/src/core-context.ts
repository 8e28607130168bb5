import type { CoreInfo, EbbId } from '@ebbrt/interfaces';
import type { NodeContext } from './node-context.js';

/**
 * Software state of one core: its translation table, which maps an EbbId to the
 * rep this core uses. A miss faults to the Ebb's root on the node.
 */
export class CoreContext implements CoreInfo {
  /** Cached translations: EbbId -> rep for this core. */
  readonly translation = new Map<EbbId, unknown>();
  /** Faults served on this core, for tests and stats. */
  faults = 0;

  constructor(
    readonly node: NodeContext,
    readonly index: number,
  ) {}

  toString(): string {
    return `node ${this.node.id} core ${this.index}`;
  }
}
