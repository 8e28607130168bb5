import { NoCurrentCoreError } from '@ebbrt/interfaces';
import type { CoreContext } from './core-context.js';
import type { NodeContext } from './node-context.js';

/**
 * The one process-wide mutable cell in the framework: which core is executing
 * right now. It models x86's %gs base, which EbbRT uses to find per-core data.
 * A JavaScript thread runs one thing at a time, so exactly one core can be
 * current; the event loops (and only they) write it when they enter a core.
 * Nodes and Ebbs keep all their state in their own objects, so many nodes live
 * in one process. The cell sits on `globalThis` under a registered symbol so that
 * two copies of this package (a dual-install) still agree on it.
 */
export interface CpuRegister {
  current: CoreContext | undefined;
}

const KEY = Symbol.for('@ebbrt/core-translation/cpu');
type WithCpu = typeof globalThis & { [KEY]?: CpuRegister };

export const cpu: CpuRegister = ((globalThis as WithCpu)[KEY] ??= { current: undefined });

/** The core executing now; throws if called outside any event. */
export function currentCore(): CoreContext {
  const core = cpu.current;
  if (core === undefined) throw new NoCurrentCoreError(0);
  return core;
}

/** The node of the core executing now. */
export function currentNode(): NodeContext {
  return currentCore().node;
}

/**
 * Runs `fn` with `core` current, restoring the previous core afterwards. Event
 * loops use it to enter a core; tests use it to act as a core. Continuations
 * after an `await` inside `fn` are not covered: only a scheduler that drains
 * microtasks before leaving the core keeps those on it.
 */
export function runOnCore<R>(core: CoreContext, fn: () => R): R {
  const previous = cpu.current;
  cpu.current = core;
  try {
    return fn();
  } finally {
    cpu.current = previous;
  }
}
