import { definePlatformManifest } from '@ebbrt/interfaces';
import { slurmPlatformOptionsSchema } from './options.js';
import { SlurmPlatform } from './platform.js';

/** Back-end nodes as Slurm jobs: allocate = sbatch, free = scancel, death = the job ending. */
export const platform = definePlatformManifest({
  name: '@ebbrt/platform-slurm',
  implements: 'NodePlatform',
  description: "Back-end nodes as Slurm jobs running the runtime's node agent, dialling the front-end over TCP",
  placement: 'remote',
  needs: { realtime: true, network: true },
  options: slurmPlatformOptionsSchema,
  create: (host, options) => new SlurmPlatform(host, options),
});
