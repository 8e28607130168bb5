import { defineConfig } from '@ebbrt/runtime';
import partitioned from './ebbrt.partition.config.js';

// The stale-read bug (see src/client.ts) under the partition it needs: a read the server cannot
// answer for 500 ms is served from the client's cache.
export default defineConfig({ ...partitioned, name: 'dst-bugs-stale-read', args: ['--bug', 'stale-read'] });
