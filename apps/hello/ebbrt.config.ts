import { defineConfig } from '@ebbrt/runtime';

// The library OS this app runs on: two back-end nodes of 2 cores each, plus the
// front-end. No Ebb is named, so each node gets the runtime's defaults; name one
// under `backend.ebbs` (e.g. `EventManager: '@acme/my-event-manager'`) to swap it.
export default defineConfig({
  name: 'hello',
  entry: { backend: './src/backend.ts', frontend: './src/frontend.ts' },
  clock: 'virtual',
  seed: 1,
  backend: {
    nodes: 2,
    machine: { cores: 2, memory: '64MiB' },
  },
  watchdog: { budgetUs: 50_000 },
});
