import { defineConfig } from '@ebbrt/runtime';

// The second framework, with no code written for it: an unmodified fastify 5 app (server/fastify.js)
// on one back-end node, as ebbrt.config.ts runs Express. Reach it at 127.0.0.1:3001 (the port
// forward) or, as root with socat, at 10.0.1.2:3001 over the TAP (its own subnet and TAP name, so it
// can run beside the Express demo).
export default defineConfig({
  name: 'fastify-demo',
  entry: { backend: './src/backend.ts' },
  clock: 'realtime',
  backend: {
    nodes: 1,
    machine: { cores: 1, memory: '256MiB' },
  },
  network: {
    subnet: '10.0.1.0/24',
    forwards: [{ listen: '127.0.0.1:3001', node: 1, port: 3001 }],
    tap: { name: 'ebbrt1' },
  },
  args: ['server/fastify.js', '3001'],
});
