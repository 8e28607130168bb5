import { defineConfig } from '@ebbrt/runtime';

// An unmodified Express app (server/app.js) on one back-end node: the native event manager and
// lwIP-style stack on a simulated NIC, in real time; static files come from this directory on the
// front-end's disk through the FileSystem Ebb. Reach it at 127.0.0.1:3000 (the port forward) or,
// as root with socat, at 10.0.0.2:3000 over the TAP. fastify instead: --config ebbrt.fastify.config.ts
export default defineConfig({
  name: 'express-demo',
  entry: { backend: './src/backend.ts' },
  clock: 'realtime',
  backend: {
    nodes: 1,
    machine: { cores: 1, memory: '256MiB' },
  },
  network: {
    subnet: '10.0.0.0/24',
    forwards: [{ listen: '127.0.0.1:3000', node: 1, port: 3000 }],
    tap: { name: 'ebbrt0' },
  },
  args: ['server/app.js', '3000'],
});
