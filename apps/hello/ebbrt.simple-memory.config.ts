import base from './ebbrt.config.js';
import { defineConfig } from '@ebbrt/runtime';

// The same app on the deliberately simple first-fit allocator: one line differs.
// Run it with `pnpm ebbrt run apps/hello --config ebbrt.simple-memory.config.ts --stats`.
export default defineConfig({
  ...base,
  backend: { ...base.backend!, ebbs: { MemoryAllocator: '@ebbrt/memory-allocator-simple' } },
});
