import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.test.config.js';

// The checker against a store with a bug planted on purpose (check/planted.ts: cas-ignored):
// `ebbrt test apps/memcached --config ebbrt.cas-ignored.config.ts --swarm` must fail it.
export default defineConfig({ ...base, name: 'memcached-check-cas-ignored', args: ['--planted-bug', 'cas-ignored'] });
