import { defineEbbManifest, UsageError, type NodeInfo } from '@ebbrt/interfaces';
import { MulticoreRoot, NodeContext } from '@ebbrt/core-translation';
import { makeCounterRep, type CounterRep, type CounterRepImpl } from './counter.js';

/**
 * The install context types its node as NodeInfo (interfaces depends on no
 * implementation); a MulticoreRoot needs the core-translation NodeContext the
 * runtime actually passes, so check for it and fail clearly otherwise.
 */
function nodeContextOf(node: NodeInfo): NodeContext {
  if (!(node instanceof NodeContext)) {
    throw new UsageError('@ebbrt/example-counter: the install context node is not a core-translation NodeContext');
  }
  return node;
}

/** Lets the runtime install the counter from a config, like any other Ebb package. */
export const manifest = defineEbbManifest<undefined, CounterRep>({
  name: '@ebbrt/example-counter',
  implements: 'user:counter',
  targets: ['native', 'hosted'],
  description: 'Per-core counter whose reps are summed per node without locks',
  create(context) {
    return new MulticoreRoot<CounterRepImpl>(nodeContextOf(context.node), context.id, undefined, makeCounterRep);
  },
});
