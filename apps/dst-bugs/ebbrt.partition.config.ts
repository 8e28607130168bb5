import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The fixed app under a network partition that heals: once, 3..18 ms in (while the client is
// adding), the server (node 2) is cut off from the client for 600..800 ms on the switch.
export default defineConfig({
  ...base,
  name: 'dst-bugs-partition',
  network: { ...base.network!, partition: { nodes: [2], afterNs: { min: 3_000_000, max: 18_000_000 }, durationNs: { min: 600_000_000, max: 800_000_000 } } },
});
