import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The counter server (node 2) crashes at 30 ms and never comes back: what its peer sees.
export default defineConfig({
  ...base,
  name: 'dst-bugs-crash-forever',
  backend: {
    ...base.backend!,
    ebbs: {
      ...base.backend!.ebbs,
      // Give up on a dead peer after a few retransmissions (Linux would take ~15 min).
      NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000, tcpMaxRetries: 4, tcpMaxSynRetries: 2 } },
    },
    faults: { crash: { nodes: [2], afterNs: { min: 30_000_000, max: 30_000_000 } } },
  },
});
