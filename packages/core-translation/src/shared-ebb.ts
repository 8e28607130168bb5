import type { CoreInfo, EbbId, EbbRoot } from '@ebbrt/interfaces';
import { placement, type CreateOptions } from './create-options.js';
import { EbbRef } from './ebb-ref.js';
import type { NodeContext } from './node-context.js';

/** Root of an Ebb with one rep per node, made on the first fault from any core. */
export class SharedRoot<Rep> implements EbbRoot<Rep> {
  private rep: Rep | undefined;

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    private readonly makeRep: (node: NodeContext) => Rep,
  ) {}

  handleFault(_core: CoreInfo): Rep {
    return (this.rep ??= this.makeRep(this.node));
  }
}

export const SharedEbb = {
  /** Creates an Ebb with one rep per node, shared by all its cores. */
  create<Rep>(makeRep: (node: NodeContext) => Rep, options: CreateOptions<never> = {}): EbbRef<Rep> {
    const { node, id } = placement(options);
    node.install(id, new SharedRoot(node, id, makeRep));
    return new EbbRef<Rep>(id);
  },
};

