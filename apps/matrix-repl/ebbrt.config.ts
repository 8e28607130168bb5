import { defineConfig } from '@ebbrt/runtime';

// The front-end is this process: a Node REPL. Tile nodes are allocated by the matrix Ebb as it
// touches tiles, one OS process each (the process-per-node platform), so tile work on different
// nodes runs on different cores at once. A small dormant pool keeps the first allocations warm.
export default defineConfig({
  name: 'matrix-repl',
  entry: { frontend: './src/main.ts' },
  clock: 'realtime',
  backend: {
    nodes: 0,
    platform: 'process',
    machine: { cores: 1, memory: '16MiB' },
  },
  frontend: {
    ebbs: {
      NodeAllocator: { package: '@ebbrt/node-allocator', options: { poolSize: 2, poolShape: { cores: 1, memoryBytes: 96 << 20 } } },
    },
  },
  network: { subnet: '10.0.0.0/24' },
});
