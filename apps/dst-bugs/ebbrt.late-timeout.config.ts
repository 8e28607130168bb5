import { defineConfig } from '@ebbrt/runtime';
import base from './ebbrt.config.js';

// The app's config with one planted bug switched on (see src/bugs.ts).
export default defineConfig({ ...base, name: 'dst-bugs-late-timeout', args: ['--bug', 'late-timeout'] });
