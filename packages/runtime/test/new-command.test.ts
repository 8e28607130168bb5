import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newCommand, packageNameProblem } from '../src/cli/new-command.js';
import { runApp } from '../src/index.js';
import { baseConfig, tempApp } from './temp-app.js';

const work = mkdtempSync(join(tmpdir(), 'ebbrt-new-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const quiet = () => undefined;
const runtimeDir = resolve(import.meta.dirname, '..');

describe('ebbrt new ebb', () => {
  it('writes a publishable package: exports with types, files allowlist, src, test, README', () => {
    const dir = newCommand(['ebb', '@acme/ebb-table'], work, quiet);
    expect(dir).toBe(join(work, 'ebb-table'));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@acme/ebb-table');
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.files).toEqual(['dist', 'src', 'README.md']);
    const runtimeVersion = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')).version;
    expect(pkg.dependencies).toEqual({ '@ebbrt/interfaces': `^${runtimeVersion}` });
    expect(Object.values(pkg.dependencies).join()).not.toMatch(/workspace:/);
    expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src', 'test', 'tsconfig.json']);
    expect(readFileSync(join(dir, 'src/index.ts'), 'utf8')).toContain("implements: 'GlobalIdMap'");
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain("ebbs: { GlobalIdMap: '@acme/ebb-table' }");
  });

  it("the scaffold's own npm test passes (against this workspace's @ebbrt/interfaces and tsx)", () => {
    const dir = newCommand(['ebb', 'my-idmap', '--dir', 'pkgs/idmap'], work, quiet);
    // Stand-ins for `npm install`: the same packages the registry would give, linked in.
    mkdirSync(join(dir, 'node_modules', '@ebbrt'), { recursive: true });
    symlinkSync(resolve(runtimeDir, '../interfaces'), join(dir, 'node_modules', '@ebbrt', 'interfaces'));
    symlinkSync(resolve(runtimeDir, 'node_modules/tsx'), join(dir, 'node_modules', 'tsx'));
    const out = execFileSync('npm', ['test'], {
      cwd: dir,
      encoding: 'utf8',
      // The workspace's interfaces has no dist/: read its sources, as every workspace test does.
      env: { ...process.env, NODE_OPTIONS: '--conditions=source', npm_config_update_notifier: 'false' },
      stdio: 'pipe',
    });
    expect(out).toMatch(/# pass 3\b/);
    expect(out).toMatch(/# fail 0\b/);

    // The same test fails when the Ebb breaks its interface (the test can fail).
    const src = join(dir, 'src/index.ts');
    writeFileSync(src, readFileSync(src, 'utf8').replace('async get(', 'async fetch('));
    let failed = '';
    try {
      execFileSync('npm', ['test'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--conditions=source' }, stdio: 'pipe' });
    } catch (error) {
      failed = String((error as { stdout?: string }).stdout);
    }
    expect(failed).toMatch(/# fail [1-9]/);
  }, 60_000);

  it('an app swaps the scaffolded Ebb in by config, and its output shows that Ebb ran', async () => {
    const entry = `import { systemEbb } from '@ebbrt/core-translation';
export async function main(ctx) {
  const map = systemEbb('GlobalIdMap').deref();
  await map.set(300, 'stored on node ' + ctx.node.id);
  ctx.log('idmap says ' + (await map.get(300)));
}\n`;
    const app = tempApp(baseConfig({ backend: { nodes: 2, machine: { cores: 2, memory: '4MiB' }, ebbs: { GlobalIdMap: './idmap/src/index.ts' } } }), { 'main.mjs': entry });
    try {
      const dir = newCommand(['ebb', '@acme/idmap', '--dir', join(app.dir, 'idmap')], work, quiet);
      mkdirSync(join(dir, 'node_modules', '@ebbrt'), { recursive: true });
      symlinkSync(resolve(runtimeDir, '../interfaces'), join(dir, 'node_modules', '@ebbrt', 'interfaces'));
      const lines: string[] = [];
      const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
      expect(run.exitCode).toBe(0);
      expect(lines).toContain('[node 1 boot] @acme/idmap: GlobalIdMap ready on node 1');
      expect(lines).toContain('[node 2 boot] @acme/idmap: GlobalIdMap ready on node 2');
      expect(lines).toContain('[node 1 core 0] idmap says stored on node 1');
      expect(lines).toContain('[node 2 core 0] idmap says stored on node 2');
      expect(run.backends[0]!.installed.find((e) => e.kind === 'GlobalIdMap')!.packageName).toBe('./idmap/src/index.ts');
    } finally {
      app.remove();
    }
  });

  it('refuses bad names and a non-empty directory, writing nothing', () => {
    for (const [name, why] of [
      ['My-Ebb', /uppercase/],
      ['', /empty/],
      ['.hidden', /starts with "\."/],
      ['_x', /starts with "_"/],
      ['a/b', /@<scope>\/<name>/],
      ['@scope/a/b', /@<scope>\/<name>/],
      ['sp ace', /contains " "/],
      ['x'.repeat(215), /214/],
      ['node_modules', /reserved/],
    ] as const) {
      expect(packageNameProblem(name)).toMatch(why);
      expect(() => newCommand(['ebb', name], work, quiet)).toThrow(/is not a valid npm package name/);
    }
    expect(packageNameProblem('@ebbrt/x-y.z~1')).toBeUndefined();
    mkdirSync(join(work, 'taken'));
    writeFileSync(join(work, 'taken', 'keep.txt'), 'mine');
    expect(() => newCommand(['ebb', 'taken'], work, quiet)).toThrow(/taken exists and is not empty: nothing was written/);
    expect(readdirSync(join(work, 'taken'))).toEqual(['keep.txt']);
    expect(() => newCommand(['app', 'x'], work, quiet)).toThrow(/cannot create "app" \(only "ebb"\)/);
    expect(() => newCommand(['ebb'], work, quiet)).toThrow(/missing the package name/);
  });
});
