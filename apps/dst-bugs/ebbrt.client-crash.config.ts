import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The fixed app whose client (node 1) crashes once mid-run and restarts with fresh memory: its
// main runs again (a new session of 30 adds) against the server, which kept its state.
export default defineConfig({
  ...base,
  name: 'dst-bugs-client-crash',
  backend: { ...base.backend!, faults: { crash: { nodes: [1], afterNs: { min: 5_000_000, max: 40_000_000 }, downNs: { min: 1_000_000, max: 20_000_000 } } } },
});
