import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The fixed app with core faults as well: late interrupts, stalled cores and a skewed, drifting clock per machine.
export default defineConfig({
  ...base,
  name: 'dst-bugs-core-faults',
  backend: {
    ...base.backend!,
    machine: { ...base.backend!.machine, faults: { interruptDelay: { probability: 0.05, maxNs: 200_000 }, stall: { probability: 0.01, maxNs: 2_000_000 }, clock: { maxSkewNs: 3_000_000_000, maxDriftPpm: 20_000 } } },
  },
});
