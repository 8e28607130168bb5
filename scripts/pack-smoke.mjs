#!/usr/bin/env node
// Proves every package is publishable, the way a newcomer outside the workspace meets it:
// - packs each public package with `pnpm pack` from a tree with no dist/ (its prepack builds it),
//   with a stray file planted in every package folder (the `files` allowlist must keep it out);
// - checks each tarball: dist/ present, every `exports`/`bin` target inside, nothing outside the
//   allowlist, no `workspace:` ranges left; and that `pnpm pack` of a private package refuses;
// - installs the tarballs with npm into an ESM app, typechecks an import of every package against
//   the published .d.ts files, and boots it with the published `ebbrt` CLI;
// - does the same for a CommonJS app made by `npm init -y` that lists only the two packages it
//   imports (the other @ebbrt packages come through `overrides`, as the README tells users).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packAll, publishablePackages } from './pack-lib.mjs';

const root = resolve(import.meta.dirname, '..');
const run = (cmd, args, cwd, quiet = false) =>
  execFileSync(cmd, args, { cwd, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

const skip = (process.env.PACK_SMOKE_SKIP ?? '').split(',');
const packages = publishablePackages(root).filter(({ pkg }) => !skip.includes(pkg.name));
const STRAY = 'stray-capture.pcap';

/** Every file a package.json's exports / bin / main / types point at (the `source` condition included). */
function targets(pkg) {
  const out = new Set();
  const walk = (v) => {
    if (typeof v === 'string') out.add(v.replace(/^\.\//, ''));
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.bin);
  walk(pkg.main);
  walk(pkg.types);
  return [...out].filter((t) => t !== 'package.json');
}

/** Throws unless the tarball holds exactly a publishable package. */
function checkTarball(name, file) {
  const entries = run('tar', ['tzf', file], root, true).trim().split('\n').map((e) => e.replace(/^package\//, ''));
  const packed = JSON.parse(run('tar', ['xzf', file, '-O', 'package/package.json'], root, true));
  const problems = [];
  if (!entries.some((e) => e.startsWith('dist/'))) problems.push('no dist/ (was it built? prepack should build it)');
  for (const t of targets(packed)) if (!entries.includes(t)) problems.push(`exports/bin target ${t} is not in the tarball`);
  // native/: sources a package compiles on first use (host-network's ebbrt-tap-bridge.c), listed in its files.
  const allowed = /^(package\.json|README\.md|LICENSE(\.md)?|CHANGELOG\.md|dist\/.+|src\/.+|native\/.+)$/;
  for (const e of entries) {
    if (!allowed.test(e) || e.endsWith('.test.ts') || e.endsWith(STRAY)) problems.push(`stray file ${e}`);
  }
  for (const [dep, range] of Object.entries({ ...packed.dependencies, ...packed.peerDependencies })) {
    if (String(range).startsWith('workspace:')) problems.push(`dependency ${dep} still has ${range}`);
  }
  if (problems.length > 0) throw new Error(`${name} (${file}):\n  ${problems.join('\n  ')}`);
  return entries.length;
}

// Every workspace package (public or private, and the root) has a files allowlist, and every
// private one a prepack that refuses, so no `pnpm -r pack` ships a private folder.
for (const dir of ['.', ...['packages', 'apps'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(d, n)))]) {
  const file = join(root, dir, 'package.json');
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(pkg.files)) throw new Error(`${file} has no "files" allowlist`);
  if (pkg.private && !/refuse-pack/.test(pkg.scripts?.prepack ?? '')) throw new Error(`${file} is private but its prepack does not refuse packing`);
  if (!pkg.private && !/build/.test(pkg.scripts?.prepack ?? '')) throw new Error(`${file} has no prepack that builds it`);
}

const work = mkdtempSync(join(tmpdir(), 'ebbrt-pack-'));
const strays = [];
try {
  // No build first: a fresh clone has no dist/, and `pnpm -r pack` there must still ship one.
  for (const { dir } of packages) {
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    if (!existsSync(join(dir, 'README.md'))) throw new Error(`${dir} has no README.md`);
    writeFileSync(join(dir, STRAY), 'an untracked capture that must never be published\n');
    strays.push(join(dir, STRAY));
  }
  const tarballs = packAll(root, work, packages);
  let files = 0;
  for (const [name, file] of Object.entries(tarballs)) files += checkTarball(name, file);
  console.log(`pack smoke: ${packages.length} tarballs hold dist/, every export target and nothing else (${files} files)`);

  // A private package refuses to pack (pnpm -r pack would otherwise ship the apps and the root).
  let refused = '';
  try {
    run('pnpm', ['pack', '--pack-destination', work], join(root, 'apps', 'memcached'), true);
  } catch (error) {
    refused = `${error.stdout ?? ''}${error.stderr ?? ''}`;
  }
  if (!/is private and is never packed/.test(refused)) throw new Error(`pnpm pack of a private app did not refuse:\n${refused}`);

  const specs = Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]));
  const mainTs = `import { systemEbb } from '@ebbrt/core-translation';
import type { AppContext } from '@ebbrt/runtime';
export function main(ctx: AppContext): void {
  const events = systemEbb('EventManager');
  events.deref().spawnRemote(() => ctx.log('published hello from core ' + events.deref().core), 1);
}
`;
  const configTs = `import { defineConfig } from '@ebbrt/runtime';
export default defineConfig({ entry: { backend: './main.ts' }, backend: { nodes: 1, machine: { cores: 2, memory: '4MiB' } } });
`;
  const boot = (app, what) => {
    const output = run('node', [join(app, 'node_modules', '@ebbrt', 'runtime', 'dist', 'bin.js'), 'run', '.'], app, true);
    process.stdout.write(output);
    if (!output.includes('[node 1 core 1] published hello from core 1')) throw new Error(`the published CLI did not boot the ${what}`);
  };

  // 1. An ESM app depending on every package.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    // A Node application has Node's types; packages whose API uses node:net etc. rely on them.
    JSON.stringify({ name: 'smoke-app', private: true, type: 'module', dependencies: { ...specs, '@types/node': '^20.19.0' }, overrides: specs }, null, 2),
  );
  writeFileSync(join(app, 'ebbrt.config.ts'), configTs);
  writeFileSync(join(app, 'main.ts'), mainTs);
  // Every package, imported through its exports map with its published types.
  const imports = packages.map(({ pkg }, i) => `import * as p${i} from '${pkg.name}';`).join('\n');
  writeFileSync(join(app, 'check.ts'), `${imports}\nexport const all = [${packages.map((_, i) => `p${i}`).join(', ')}];\n`);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['check.ts'] }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app);
  boot(app, 'ESM app');

  // 2. A CommonJS app straight from `npm init -y`, naming only what it imports.
  const cjs = join(work, 'cjs-app');
  mkdirSync(cjs);
  run('npm', ['init', '-y'], cjs, true);
  const manifest = JSON.parse(readFileSync(join(cjs, 'package.json'), 'utf8'));
  if (manifest.type === 'module') throw new Error('npm init -y made an ES module package; this case needs CommonJS');
  manifest.dependencies = { '@ebbrt/runtime': specs['@ebbrt/runtime'], '@ebbrt/core-translation': specs['@ebbrt/core-translation'] };
  // Until the packages are on a registry, their @ebbrt dependencies are found through overrides.
  manifest.overrides = specs;
  writeFileSync(join(cjs, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(cjs, 'ebbrt.config.ts'), configTs);
  writeFileSync(join(cjs, 'main.ts'), mainTs);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], cjs);
  boot(cjs, 'CommonJS app (npm init -y)');

  console.log(`pack smoke: ${packages.length} packages packed without a build, checked, installed outside the workspace, typechecked and booted (ESM and CommonJS apps)`);
} finally {
  for (const s of strays) rmSync(s, { force: true });
  rmSync(work, { recursive: true, force: true });
}
