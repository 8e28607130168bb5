import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.test.config.js';

// The checker against a store with a bug planted on purpose (check/planted.ts: lost-delete):
// `ebbrt test apps/memcached --config ebbrt.lost-delete.config.ts --swarm` must fail it.
export default defineConfig({ ...base, name: 'memcached-check-lost-delete', args: ['--planted-bug', 'lost-delete'] });
