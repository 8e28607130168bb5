/**
 * Fixtures shared by the core-translation unit tests (src/*.test.ts). Outside src/, so the
 * published package (`files`: dist, src) never ships it, and not named *.test.ts, so vitest
 * does not collect it as a test.
 */
import type { CoreInfo, EbbRoot } from '@ebbrt/interfaces';
import { NodeContext } from '../src/node-context.js';

export function makeNode(id = 1, numCores = 4, idSpace?: number): NodeContext {
  return new NodeContext({ id, numCores, target: 'native', idSpace });
}

/** A root that counts its faults per core, so tests can assert "exactly once per core". */
export class CountingRoot implements EbbRoot<{ core: number; node: number }> {
  readonly faultsByCore = new Map<number, number>();
  total = 0;
  /** When set, the next faults throw this instead of making a rep. */
  failWith: Error | undefined;

  handleFault(core: CoreInfo): { core: number; node: number } {
    this.total++;
    this.faultsByCore.set(core.index, (this.faultsByCore.get(core.index) ?? 0) + 1);
    if (this.failWith !== undefined) throw this.failWith;
    return { core: core.index, node: core.node.id };
  }
}
