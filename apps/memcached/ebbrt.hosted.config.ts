import { defineConfig } from '@ebbrt/runtime';

// memcached on the front-end only, served by the hosted NetworkManager (node:net),
// in real time so real clients can talk to it on 127.0.0.1:11211. Stop with Ctrl-C.
export default defineConfig({
  name: 'memcached',
  entry: { frontend: './src/main.ts' },
  clock: 'realtime',
  frontend: {
    cores: 1,
    ebbs: { NetworkManager: '@ebbrt/network-manager-hosted' },
  },
  args: ['--port', '11211', '--memory-limit', '64MiB', '--max-item-size', '1MiB'],
});
