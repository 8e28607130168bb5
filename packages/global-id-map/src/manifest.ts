import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type GlobalIdMap } from '@ebbrt/interfaces';
import { globalIdMapOptionsSchema, type GlobalIdMapOptions } from './options.js';
import { GlobalIdMapRoot } from './root.js';

/**
 * The default GlobalIdMap: the table lives on the home node (the front-end by default); other
 * nodes ask it over the Messenger. Name it for both sections:
 * `frontend.ebbs.GlobalIdMap: '@ebbrt/global-id-map'`, `backend.ebbs.GlobalIdMap: '@ebbrt/global-id-map'`.
 */
export const manifest = defineEbbManifest<GlobalIdMapOptions, GlobalIdMap>({
  name: '@ebbrt/global-id-map',
  implements: 'GlobalIdMap',
  targets: ['hosted', 'native'],
  description: "The application's EbbId -> data table, kept on the front-end and reached from back-ends over the Messenger",
  options: globalIdMapOptionsSchema,
  create(context, options) {
    return new GlobalIdMapRoot(nodeContextOf(context.node), context.id, globalIdMapOptionsSchema.parse(options ?? {}), context.faults);
  },
});
