import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The fixed app with a crash inside a partition: 5..10 ms in (while the client is adding) the
// server (node 2) is cut off for 250..350 ms; 20..60 ms in it crashes, and it restarts 5..30 ms
// later with fresh memory, still cut off (the switch cuts it again when it re-attaches). Once
// the partition heals, the client's old connection meets the restarted node. `--announce`: the
// restarted server connects to the client itself, so its new connection (incarnation 1) can
// arrive while the client still holds the one to its previous life.
export default defineConfig({
  ...base,
  name: 'dst-bugs-crash-partition',
  backend: { ...base.backend!, faults: { crash: { nodes: [2], afterNs: { min: 40_000_000, max: 80_000_000 }, downNs: { min: 5_000_000, max: 30_000_000 } } } },
  args: ['--announce'],
  network: { ...base.network!, partition: { nodes: [2], afterNs: { min: 20_000_000, max: 30_000_000 }, durationNs: { min: 250_000_000, max: 350_000_000 } } },
});
