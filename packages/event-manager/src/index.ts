export { manifest } from './manifest.js';
export { eventManagerOptionsSchema, type EventManagerOptions } from './common/options.js';
export { NativeEventManagerRoot } from './native/native-root.js';
export { NativeEventManager } from './native/native-rep.js';
export { HostedEventManagerRoot } from './hosted/hosted-root.js';
export { HostedEventManager } from './hosted/hosted-rep.js';
export type { WatchdogReport } from './common/event-stats.js';
export { REMOTE_EVENT_VECTOR, FIRST_FREE_VECTOR } from './common/vectors.js';
