import { nodeContextOf } from '@ebbrt/core-translation';
import { UsageError, defineEbbManifest, type FileSystem } from '@ebbrt/interfaces';
import { fileSystemOptionsSchema, type FileSystemOptions } from './options.js';
import { FileSystemRoot } from './root.js';

/**
 * EbbRT's FileSystem: the front-end serves files from a root directory; back-ends offload every
 * call to it over the Messenger. `frontend.ebbs.FileSystem: { package: '@ebbrt/file-system',
 * options: { root: '.' } }`, `backend.ebbs.FileSystem: '@ebbrt/file-system'`.
 */
export const manifest = defineEbbManifest<FileSystemOptions, FileSystem>({
  name: '@ebbrt/file-system',
  implements: 'FileSystem',
  targets: ['hosted', 'native'],
  description: "Back-ends' file access offloaded to the front-end, confined to a root directory",
  options: fileSystemOptionsSchema,
  create(context, options) {
    const parsed = fileSystemOptionsSchema.parse(options ?? {});
    if (context.node.id === parsed.home && context.target !== 'hosted') {
      throw new UsageError(`@ebbrt/file-system: node ${context.node.id} is the home (it serves files) but is native; the home must be a hosted node (the front-end)`);
    }
    return new FileSystemRoot(nodeContextOf(context.node), context.id, parsed, context.faults);
  },
});
