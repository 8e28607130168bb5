#!/usr/bin/env node
// Proves every package is publishable: builds, packs each with `pnpm pack`, installs
// the tarballs with npm into an application outside the workspace, typechecks an
// import of every package against the published .d.ts files, and boots a library OS
// with the published `ebbrt` CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = (cmd, args, cwd, quiet = false) =>
  execFileSync(cmd, args, { cwd, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir), pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private && !(process.env.PACK_SMOKE_SKIP ?? '').split(',').includes(pkg.name));

const work = mkdtempSync(join(tmpdir(), 'ebbrt-pack-'));
try {
  run('pnpm', ['build'], root);
  const tarballs = {};
  for (const { dir, pkg } of packages) {
    for (const file of ['README.md', 'package.json']) {
      if (!existsSync(join(dir, file))) throw new Error(`${pkg.name} has no ${file}`);
    }
    const out = run('pnpm', ['pack', '--pack-destination', work], dir, true).trim().split('\n').pop();
    tarballs[pkg.name] = `file:${out.startsWith('/') ? out : join(work, out)}`;
  }
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'smoke-app',
        private: true,
        type: 'module',
        // A Node application has Node's types; packages whose API uses node:net etc. rely on them.
        dependencies: { ...tarballs, '@types/node': '^20.19.0' },
        overrides: tarballs,
      },
      null,
      2,
    ),
  );
  // What the README tells a newcomer to write: a TypeScript config and entry point.
  writeFileSync(
    join(app, 'ebbrt.config.ts'),
    `import { defineConfig } from '@ebbrt/runtime';
export default defineConfig({ entry: { backend: './main.ts' }, backend: { nodes: 1, machine: { cores: 2, memory: '4MiB' } } });
`,
  );
  writeFileSync(
    join(app, 'main.ts'),
    `import { systemEbb } from '@ebbrt/core-translation';
import type { AppContext } from '@ebbrt/runtime';
export function main(ctx: AppContext): void {
  const events = systemEbb('EventManager');
  events.deref().spawnRemote(() => ctx.log('published hello from core ' + events.deref().core), 1);
}
`,
  );
  // Every package, imported through its exports map with its published types.
  const imports = packages.map(({ pkg }, i) => `import * as p${i} from '${pkg.name}';`).join('\n');
  writeFileSync(join(app, 'check.ts'), `${imports}\nexport const all = [${packages.map((_, i) => `p${i}`).join(', ')}];\n`);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['check.ts'] }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app);
  const output = run('node', [join(app, 'node_modules', '@ebbrt', 'runtime', 'dist', 'bin.js'), 'run', '.'], app, true);
  process.stdout.write(output);
  if (!output.includes('[node 1 core 1] published hello from core 1')) throw new Error('the published CLI did not boot the app');
  console.log(`pack smoke: ${packages.length} packages packed, installed outside the workspace, typechecked and booted`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
