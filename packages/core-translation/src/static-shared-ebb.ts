import type { EbbId, EbbRoot } from '@ebbrt/interfaces';
import { EbbRef } from './ebb-ref.js';
import type { NodeContext } from './node-context.js';

export const StaticSharedEbb = {
  /**
   * Installs an already-built rep under a static id (a system id, or a name-derived
   * user id) and caches it on every core at once, so it never faults. EbbRT uses
   * these for the Ebbs that translation itself needs.
   */
  install<Rep>(node: NodeContext, id: EbbId, rep: Rep, name?: string): EbbRef<Rep> {
    const root: EbbRoot<Rep> = { handleFault: () => rep };
    if (name !== undefined) node.installStatic(name, id, root);
    else node.install(id, root);
    node.cacheOnEveryCore(id, rep);
    return new EbbRef<Rep>(id);
  },
};

