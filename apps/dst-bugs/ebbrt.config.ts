import { defineConfig } from '@ebbrt/runtime';

// Node 1 is a client of a counter held by node 2; their Messenger runs over our lwIP stack on
// links that lose, duplicate and reorder frames. `args` switches on one planted bug (see
// src/bugs.ts); `ebbrt test` swarms the link faults and checks ebbrt.invariants.ts.
export default defineConfig({
  name: 'dst-bugs',
  entry: { backend: './src/main.ts' },
  clock: 'virtual',
  backend: {
    nodes: 2,
    machine: { cores: 1, memory: '32MiB' },
    ebbs: {
      // Node k is host k + 1 of the subnet. The runtime fills the nodes' directories itself (and
      // adds node 0 at the gateway); this static list names the same addresses.
      Messenger: { package: '@ebbrt/messenger', options: { peers: { '1': '10.0.0.2:7000', '2': '10.0.0.3:7000' } } },
      NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
    },
  },
  network: { link: { latencyNs: 20_000, loss: 0.05, duplicate: 0.02, reorder: 0.05, reorderDelayNs: 200_000 } },
  args: [],
});
