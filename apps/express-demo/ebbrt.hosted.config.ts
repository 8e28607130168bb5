import { defineConfig } from '@ebbrt/runtime';

// The same unmodified Express app on the front-end's hosted stack (the NetworkManager over
// node:net, listening on 127.0.0.1:3000 itself): the bench's "hosted" row.
export default defineConfig({
  name: 'express-demo-hosted',
  entry: { frontend: './src/backend.ts' },
  clock: 'realtime',
  frontend: {
    cores: 1,
    ebbs: { NetworkManager: '@ebbrt/network-manager-hosted', FileSystem: { package: '@ebbrt/file-system', options: { root: '.' } } },
  },
  args: ['server/app.js', '3000'],
});
