// Builds the playground into dist/: index.html and one browser bundle (app.js). Any static host
// serves the folder. Uses the workspace packages' TypeScript sources (the `source` condition).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src/main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  conditions: ['source'],
  outfile: join(out, 'app.js'),
  sourcemap: true,
  // The Event Manager names traced events after their functions: keep the names the sources
  // give them, or the bundle's renames (start -> start2) change the trace digest.
  keepNames: true,
  logLevel: 'warning',
});
copyFileSync(join(root, 'public/index.html'), join(out, 'index.html'));
console.log(`playground built into ${out}`);
