export { createCounter, CounterRepImpl, makeCounterRep, type CounterRep } from './counter.js';
export { manifest } from './manifest.js';
