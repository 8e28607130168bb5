// What `pnpm pack:all` and `pnpm pack:smoke` share: which packages are publishable, and packing
// them (each package's prepack builds it, or restores dist/ from turbo's cache, so no build is needed first).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The public packages under packages/ (private ones, the kits, are never packed). */
export function publishablePackages(root) {
  return readdirSync(join(root, 'packages'))
    .map((dir) => ({ dir: join(root, 'packages', dir), pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private);
}

/** Packs each package into `dest`; returns { name: absolute tarball path }. */
export function packAll(root, dest, packages = publishablePackages(root)) {
  const tarballs = {};
  for (const { dir, pkg } of packages) {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    })
      .trim()
      .split('\n')
      .pop();
    tarballs[pkg.name] = out.startsWith('/') ? out : join(dest, out);
  }
  return tarballs;
}
