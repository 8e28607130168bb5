import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The counter with a planted best-effort journal (src/journal.ts): a failed append is taken as
// done and the add acked anyway. `ebbrt test --swarm` must fail it on the journal invariant and
// shrink it to the FileSystem offload fail fault.
export default defineConfig({ ...base, name: 'counter-lost-journal', args: ['--planted-bug', 'lost-journal'] });
