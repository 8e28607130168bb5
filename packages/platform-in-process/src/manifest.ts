import { UsageError, definePlatformManifest } from '@ebbrt/interfaces';
import { z } from 'zod';
import { InProcessPlatform } from './platform.js';

/** The default platform: back-ends are simulated machines in the front-end's simulation. */
export const platform = definePlatformManifest({
  name: '@ebbrt/platform-in-process',
  implements: 'NodePlatform',
  description: "Back-end nodes as simulated machines in the front-end's process (virtual or real time)",
  placement: 'local',
  options: z.strictObject({}),
  create(host) {
    if (host.local === undefined) throw new UsageError('@ebbrt/platform-in-process: the runtime offers no local simulation to place nodes in');
    return new InProcessPlatform(host.local);
  },
});
