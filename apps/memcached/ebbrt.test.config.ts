import { defineConfig } from '@ebbrt/runtime';

// memcached under `ebbrt test` (the checker, check/): node 1 serves memcached (2 cores, native
// stack), node 2 runs a seeded client of get/gets/set/add/append/cas/delete/incr/decr over TCP
// and checks every reply against a model of the store. Virtual clock; every fault below is a
// switch that `ebbrt test --swarm` turns on or off per seed (ebbrt.invariants.ts says what must hold).
export default defineConfig({
  name: 'memcached-check',
  entry: { backend: './check/main.ts' },
  clock: 'virtual',
  backend: {
    nodes: 2,
    machine: {
      cores: 2,
      memory: '64MiB',
      faults: { interruptDelay: { probability: 0.05, maxNs: 200_000 }, stall: { probability: 0.005, maxNs: 2_000_000 }, clock: { maxSkewNs: 1_000_000_000, maxDriftPpm: 20_000 } },
    },
    ebbs: {
      EventManager: '@ebbrt/event-manager',
      MemoryAllocator: '@ebbrt/memory-allocator-slqb',
      NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
    },
  },
  network: {
    subnet: '10.0.0.0/24',
    link: { latencyNs: 20_000, loss: 0.03, duplicate: 0.02, reorder: 0.05, reorderDelayNs: 200_000, corrupt: 0.01 },
    nic: { faults: { rxNoBuffer: { probability: 0.02, burst: 2 }, interruptDelay: { probability: 0.05, maxNs: 100_000 }, interruptLoss: 0.01, txCompletionDelay: { probability: 0.05, maxNs: 100_000 }, deviceReset: 0.002 } },
  },
  args: [],
});
