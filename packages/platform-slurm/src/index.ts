export { platform } from './manifest.js';
export { SlurmPlatform } from './platform.js';
export { SlurmNode } from './node.js';
export { slurmPlatformOptionsSchema, type SlurmPlatformOptions } from './options.js';
export { SlurmCommands, describeJob, type JobState } from './slurm.js';
