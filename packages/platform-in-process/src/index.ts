export { platform } from './manifest.js';
export { InProcessPlatform, InProcessNode } from './platform.js';
