import { nodeContextOf } from '@ebbrt/core-translation';
import { defineEbbManifest, type GlobalIdMap } from '@ebbrt/interfaces';
import { etcdGlobalIdMapOptionsSchema, type EtcdGlobalIdMapOptions } from './options.js';
import { EtcdGlobalIdMapRoot } from './root.js';

/** A GlobalIdMap kept in etcd v3, for the front-end: `frontend.ebbs.GlobalIdMap: '@ebbrt/global-id-map-etcd'`. */
export const manifest = defineEbbManifest<EtcdGlobalIdMapOptions, GlobalIdMap>({
  name: '@ebbrt/global-id-map-etcd',
  implements: 'GlobalIdMap',
  targets: ['hosted'],
  description: "The application's EbbId -> data map kept in etcd v3 through its HTTP/JSON gateway",
  options: etcdGlobalIdMapOptionsSchema,
  create(context, options) {
    if (context.target !== 'hosted') {
      throw new TypeError(
        '@ebbrt/global-id-map-etcd runs only on hosted nodes (the front-end); back-ends are meant to reach the map through the front-end',
      );
    }
    // The schema fills defaults; a direct caller may pass a partial object.
    const parsed = etcdGlobalIdMapOptionsSchema.parse(options ?? {});
    return new EtcdGlobalIdMapRoot(nodeContextOf(context.node), parsed);
  },
});
