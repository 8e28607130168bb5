/**
 * `@ebbrt/core-translation/node`: the debug check that needs node:async_hooks. The main entry
 * stays browser-safe.
 */
export { watchCoreCrossings, describeCoreCrossing, type CoreCrossing, type CoreCrossingWatch } from './core-crossings.js';
