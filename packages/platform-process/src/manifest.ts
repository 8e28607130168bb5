import { definePlatformManifest } from '@ebbrt/interfaces';
import { processPlatformOptionsSchema } from './options.js';
import { ProcessPlatform } from './platform.js';

/** One OS process per back-end node, their Messengers meeting over real loopback TCP. */
export const platform = definePlatformManifest({
  name: '@ebbrt/platform-process',
  implements: 'NodePlatform',
  description: "One OS process per back-end node (the runtime's node agent), Messengers over real loopback TCP",
  placement: 'remote',
  needs: { realtime: true, network: true },
  options: processPlatformOptionsSchema,
  create: (host, options) => new ProcessPlatform(host, options),
});
