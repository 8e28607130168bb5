/**
 * A debug check for the one way to lose your core: an `await` on a plain Promise that another
 * core settles resumes on *that* core (continuations run in the microtask drain of whoever
 * settled the promise, with that core current), so `deref()` after it finds the other core's rep.
 * Only the Event Manager's `promise()` (a CorePromise) brings the waiter back to its own core.
 *
 * `watchCoreCrossings` uses node:async_hooks promise hooks: each promise remembers the core that
 * was current when it was made (the `await` or `.then`), and each continuation, on entry, is
 * checked against the core current now. Nothing is hooked until it is called (EBBRT_DEBUG_CORES=1
 * for the ebbrt CLI), so it costs nothing when off; when on, every promise pays for the check.
 */
import { createHook, executionAsyncResource } from 'node:async_hooks';
import type { CoreContext } from '../core-context.js';
import { cpu } from '../cpu.js';

export interface CoreCrossing {
  /** The core current when the awaited promise's continuation was set up. */
  readonly from: CoreContext;
  /** The core current when the continuation ran. */
  readonly to: CoreContext;
  /** Where the continuation was set up (the `await`), when stacks are kept. */
  readonly stack: string | undefined;
}

const AWAITED_ON = Symbol('ebbrt.awaitedOn');
const AWAITED_AT = Symbol('ebbrt.awaitedAt');
type Marked = { [AWAITED_ON]?: CoreContext; [AWAITED_AT]?: string };

export interface CoreCrossingWatch {
  stop(): void;
}

/** Reports every continuation that resumes on a core other than the one that awaited. */
export function watchCoreCrossings(report: (crossing: CoreCrossing) => void, options: { stacks?: boolean } = {}): CoreCrossingWatch {
  const stacks = options.stacks ?? true;
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type !== 'PROMISE') return;
      const core = cpu.current;
      if (core === undefined) return;
      const marked = resource as Marked;
      marked[AWAITED_ON] = core;
      if (stacks) marked[AWAITED_AT] = new Error('awaited here').stack;
    },
    before() {
      const marked = executionAsyncResource() as Marked;
      const from = marked[AWAITED_ON];
      const to = cpu.current;
      if (from === undefined || to === undefined || from === to) return;
      report({ from, to, stack: marked[AWAITED_AT] });
    },
  });
  hook.enable();
  return { stop: () => hook.disable() };
}

/** One line for a crossing, naming both cores and where the await was. */
export function describeCoreCrossing(c: CoreCrossing): string {
  const frames = (c.stack ?? '').split('\n').slice(1).map((l) => l.trim().replace(/^at /, ''));
  const app = frames.filter((f) => !f.includes('node:internal') && !f.includes('core-crossings'));
  const where = app.length > 0 ? app.slice(0, 3).join(' < ') : '(no stack)';
  return (
    `continuation crossed cores: awaited on node ${c.from.node.id} core ${c.from.index}, resumed on node ${c.to.node.id} core ${c.to.index} ` +
    `(a plain Promise settled by another core; await the EventManager's promise() to keep the core) at ${where}`
  );
}
