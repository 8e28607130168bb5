#!/usr/bin/env node
// The prepack of every public package: `dist/` is removed, then `turbo run build` of this package
// puts it back, from turbo's cache when this package's inputs were built before (CI's build step,
// the publish test, a `pnpm build`), else by running its tsup build (and its dependencies').
// Removing dist/ first keeps what tsup's `clean` gave the old prepack: a file that a cached or
// earlier build left behind and this build does not make is never packed. The tarball's content
// is still chosen by the package's `files` allowlist.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.cwd();
const manifest = join(dir, 'package.json');
if (!existsSync(manifest)) throw new Error(`prepack-build: ${dir} has no package.json (run it as a package's prepack)`);
const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
rmSync(join(dir, 'dist'), { recursive: true, force: true });
const turbo = join(root, 'node_modules', '.bin', 'turbo');
try {
  // Its output goes to stderr: `pnpm pack` prints the tarball's name last on stdout.
  execFileSync(turbo, ['run', 'build', `--filter=${name}`, '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
} catch (error) {
  console.error(`prepack-build: turbo run build --filter=${name} failed (${error.status !== null ? `exit code ${error.status}` : error.message}); nothing was packed`);
  process.exit(1);
}
if (!existsSync(join(dir, 'dist'))) {
  console.error(`prepack-build: the build of ${name} made no dist/ (does turbo.json's build list dist/** as its outputs?)`);
  process.exit(1);
}
