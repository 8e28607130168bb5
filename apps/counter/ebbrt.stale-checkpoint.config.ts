import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The counter with a planted stale checkpoint (src/checkpoint.ts): every add sends its own
// GlobalIdMap set at once, so a set the offload delay fault holds back can land after a newer
// one. `ebbrt test --swarm` must fail it and shrink it to the delay.
export default defineConfig({ ...base, name: 'counter-stale-checkpoint', args: ['--planted-bug', 'stale-checkpoint'] });
