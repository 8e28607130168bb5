import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The fixed app whose counter server (node 2) crashes once mid-run and restarts with fresh memory.
export default defineConfig({
  ...base,
  name: 'dst-bugs-crash',
  backend: { ...base.backend!, faults: { crash: { nodes: [2], afterNs: { min: 10_000_000, max: 100_000_000 }, downNs: { min: 1_000_000, max: 30_000_000 } } } },
});
