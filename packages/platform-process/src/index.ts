export { platform } from './manifest.js';
export { ProcessPlatform, ProcessNode } from './platform.js';
export { processPlatformOptionsSchema, type ProcessPlatformOptions } from './options.js';
