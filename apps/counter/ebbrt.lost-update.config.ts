import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The counter with a planted lost update (src/counter-node.ts): `ebbrt test --swarm` must fail it.
export default defineConfig({ ...base, name: 'counter-lost-update', args: ['--planted-bug', 'lost-update'] });
