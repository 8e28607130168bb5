import { defineEbbManifest, UsageError, type NodeAllocator } from '@ebbrt/interfaces';
import { nodeAllocatorOptionsSchema, type NodeAllocatorOptions } from './options.js';
import { NodeAllocatorRoot } from './root.js';

export const manifest = defineEbbManifest<NodeAllocatorOptions, NodeAllocator>({
  name: '@ebbrt/node-allocator',
  implements: 'NodeAllocator',
  targets: ['hosted'],
  description: 'Allocates, boots and frees back-end nodes through the platform the runtime provides, with a dormant pool',
  options: nodeAllocatorOptionsSchema,
  create(context, options) {
    if (context.platform === undefined) {
      throw new UsageError('@ebbrt/node-allocator: no node platform in the install context (it runs on the front-end the runtime boots)');
    }
    return new NodeAllocatorRoot(context.platform, nodeAllocatorOptionsSchema.parse(options ?? {}), context.log);
  },
});
