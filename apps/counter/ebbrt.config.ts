import { defineConfig } from '@ebbrt/runtime';

// The distributed counter under `ebbrt test`: node 1 drives, nodes 2 and 3 hold per-core counter
// reps, checkpointed to the front-end's GlobalIdMap and journaled to a file on the front-end;
// their Messengers run over our lwIP stack.
// Every fault below is a switch that `ebbrt test --swarm` turns on or off per seed;
// ebbrt.invariants.ts says what must hold.
export default defineConfig({
  name: 'counter',
  entry: { backend: './src/main.ts' },
  clock: 'virtual',
  backend: {
    nodes: 3,
    machine: {
      cores: 2,
      memory: '32MiB',
      faults: { interruptDelay: { probability: 0.05, maxNs: 200_000 }, stall: { probability: 0.005, maxNs: 2_000_000 }, clock: { maxSkewNs: 1_000_000_000, maxDriftPpm: 20_000 } },
    },
    ebbs: {
      // Node k is host k + 1 of the subnet. The runtime fills the nodes' directories itself (and
      // adds node 0 at the gateway); this static list names the same addresses.
      Messenger: { package: '@ebbrt/messenger', options: { peers: { '1': '10.0.0.2:7000', '2': '10.0.0.3:7000', '3': '10.0.0.4:7000' } } },
      // The lost-interrupt watchdog, whose core-0 tick also reads the device status (a reset whose
      // configuration interrupt was lost is found there), as a background timer: it ticks while
      // anything else is pending and lets the run end when nothing is.
      NetworkManager: {
        package: '@ebbrt/network-manager-lwip',
        options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000, interruptWatchdogUs: 2_000, interruptWatchdogBackground: true },
      },
    },
  },
  network: {
    link: { latencyNs: 20_000, loss: 0.03, duplicate: 0.02, reorder: 0.05, reorderDelayNs: 200_000, corrupt: 0.01 },
    nic: { faults: { rxNoBuffer: { probability: 0.02, burst: 2 }, interruptDelay: { probability: 0.05, maxNs: 100_000 }, interruptLoss: 0.01, txCompletionDelay: { probability: 0.05, maxNs: 100_000 }, deviceReset: 0.002, configInterruptLoss: 0.5 } },
  },
  // The front-end's GlobalIdMap holds each core's checkpoint (src/checkpoint.ts); every set and
  // get a back-end sends may be refused (never sent) or sent up to 3 ms late.
  // Each node's journal (src/journal.ts) is a file on the front-end: its appends and reads may be
  // refused or delayed the same way.
  faults: {
    offload: {
      globalIdMap: { fail: { probability: 0.1 }, delay: { probability: 0.2, maxUs: 3_000 } },
      fileSystem: { fail: { probability: 0.1 }, delay: { probability: 0.2, maxUs: 3_000 } },
    },
  },
  args: [],
});
