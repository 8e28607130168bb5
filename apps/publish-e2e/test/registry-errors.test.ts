// Bad inputs to the publish flow fail saying what was wrong: a refused publish (no token, a
// version already there), a package the registry does not hold (uplinks are off), a registry that
// is not running. Also the pieces the end-to-end test relies on, checked on their own.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedProblems, tarballEntries, workspaceRanges } from '../src/check-published.js';
import { addUser, packument, publishTarball, startRegistry, type Registry } from '../src/registry.js';
import { compareVersions, packInstalled, thirdPartyClosure } from '../src/third-party.js';
import { npmLogin } from '../src/npm-login.js';
import { diagnose, npmEnv, run } from '../src/tools.js';
import { publishCopy, unbuiltPackages, workspaceRoot } from '../src/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'ebbrt-registry-errors-'));
let registry: Registry;
let token: string;

/** A one-file package tarball, built like npm's (files under package/). */
function tinyPackage(name: string, version: string): { manifest: { name: string; version: string }; tarball: Buffer } {
  const dir = join(work, `src-${name.replace('/', '-')}-${version}`);
  mkdirSync(dir, { recursive: true });
  const manifest = { name, version };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'index.js'), `export const version = ${JSON.stringify(version)};\n`);
  return { manifest, tarball: packInstalled(dir) };
}

/** A pnpm workspace of public packages (default: one, @acme/p), each with `fields` and the `files` given. */
function tinyWorkspace(name: string, packages: { name: string; fields?: Record<string, unknown>; files?: Record<string, string> }[] = [{ name: '@acme/p' }]): string {
  const ws = join(work, name);
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'pnpm-workspace.yaml'), 'packages: [packages/*]\n');
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'root', private: true }));
  packages.forEach((p, i) => {
    const dir = join(ws, 'packages', `p${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: p.name, version: '1.0.0', ...p.fields }));
    for (const [file, text] of Object.entries(p.files ?? {})) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
  });
  return ws;
}

beforeAll(async () => {
  registry = await startRegistry(join(work, 'registry'));
  token = await addUser(registry.url, 'tester', 'tester-password');
}, 90_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the registry refuses, and the flow says why', () => {
  it('a publish without a token is refused, naming the package and the reason', async () => {
    const { manifest, tarball } = tinyPackage('@acme/anon', '1.0.0');
    await expect(publishTarball(registry.url, undefined, manifest, tarball)).rejects.toThrow(/publishing @acme\/anon@1\.0\.0 to http:\/\/127\.0\.0\.1:\d+\/ was refused: HTTP 401: authorization required/);
    await expect(packument(registry.url, '@acme/anon')).rejects.toThrow(/reading @acme\/anon .*HTTP 404/);
  });

  it('publishing a version that is already there is refused, and the first one is kept', async () => {
    const first = tinyPackage('@acme/twice', '1.0.0');
    await publishTarball(registry.url, token, first.manifest, first.tarball);
    const second = tinyPackage('@acme/twice', '1.0.0');
    await expect(publishTarball(registry.url, token, { ...second.manifest, description: 'again' }, second.tarball)).rejects.toThrow(/@acme\/twice@1\.0\.0 .* refused: HTTP 409: this package is already present/);
    const doc = await packument(registry.url, '@acme/twice');
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
    expect(doc.versions['1.0.0']!.description).toBeUndefined();
  });

  it('npm install of a package the registry does not hold fails naming it (no uplink to fall back on)', async () => {
    const app = join(work, 'app-missing');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app-missing', private: true }));
    const env = npmEnv(join(work, 'npm-missing'), registry.url);
    expect(() => run('npm', ['install', 'left-pad', '--no-audit', '--no-fund'], { cwd: app, env, what: 'npm install left-pad', registry: registry.url })).toThrow(
      /npm install left-pad failed \(exit code 1\): a package is not on http:\/\/127\.0\.0\.1:\d+\/ \(left-pad\): uplinks are off/,
    );
    expect(await registry.waitForLog(/404.*GET \/left-pad/)).toBe(true);
  }, 120_000);

  it('npm login with a wrong password for an existing user fails naming the user and the registry, and stores no token', async () => {
    const first = npmEnv(join(work, 'login-first'), registry.url);
    await npmLogin(registry.url, { env: first, cwd: work, user: 'carol', password: 'carol-password' });
    expect(run('npm', ['whoami'], { cwd: work, env: first, what: 'npm whoami' }).trim()).toBe('carol');
    const second = npmEnv(join(work, 'login-second'), registry.url);
    await expect(npmLogin(registry.url, { env: second, cwd: work, user: 'carol', password: 'not-carols' })).rejects.toThrow(
      /npm login --registry http:\/\/127\.0\.0\.1:\d+\/ as carol failed: http:\/\/127\.0\.0\.1:\d+\/ refused the password for carol \(E401/,
    );
    expect(readFileSync(second.npm_config_userconfig!, 'utf8')).not.toMatch(/_authToken/);
  }, 60_000);

  it('pnpm publish without a token fails saying it is not logged in', () => {
    const ws = tinyWorkspace('ws-anon');
    const env = npmEnv(join(work, 'npm-anon'), registry.url);
    expect(() => run('pnpm', ['publish', '-r', '--registry', registry.url, '--no-git-checks'], { cwd: ws, env, what: 'pnpm publish -r', registry: registry.url })).toThrow(
      /pnpm publish -r failed \(exit code 1\): the publish was refused by http:\/\/127\.0\.0\.1:\d+\/: not logged in/,
    );
  }, 120_000);

  it('pnpm publish -r of a version the registry already holds fails naming it (pnpm itself skips it and exits 0)', async () => {
    const ws = tinyWorkspace('ws-republish', [{ name: '@acme/republish' }, { name: '@acme/republish-b' }]);
    const env = npmEnv(join(work, 'npm-republish'), registry.url, token);
    publishCopy(ws, registry.url, env);
    // Bump one of the two: the other is still 1.0.0, which is already there.
    const b = join(ws, 'packages', 'p1', 'package.json');
    writeFileSync(b, JSON.stringify({ name: '@acme/republish-b', version: '1.0.1' }));
    expect(() => publishCopy(ws, registry.url, env)).toThrow(/pnpm publish -r to http:\/\/127\.0\.0\.1:\d+\/ did not publish @acme\/republish@1\.0\.0: that version is already on the registry/);
    expect(Object.keys((await packument(registry.url, '@acme/republish')).versions)).toEqual(['1.0.0']);
    expect(Object.keys((await packument(registry.url, '@acme/republish-b')).versions).sort()).toEqual(['1.0.0', '1.0.1']);
  }, 120_000);

  it('a package missing its build output is refused before anything is published, naming it and its missing files', async () => {
    const exports = { '.': { source: './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' } };
    const ws = tinyWorkspace('ws-unbuilt', [
      { name: '@acme/built', fields: { exports }, files: { 'src/index.ts': 'export {};\n', 'dist/index.js': 'export {};\n', 'dist/index.d.ts': 'export {};\n' } },
      { name: '@acme/unbuilt', fields: { exports, bin: { unbuilt: './dist/bin.js' } }, files: { 'src/index.ts': 'export {};\n' } },
    ]);
    expect(unbuiltPackages(ws)).toEqual(['@acme/unbuilt: dist/bin.js, dist/index.d.ts, dist/index.js']);
    const env = npmEnv(join(work, 'npm-unbuilt'), registry.url, token);
    expect(() => publishCopy(ws, registry.url, env)).toThrow(
      /nothing was published to http:\/\/127\.0\.0\.1:\d+\/: 1 package\(s\) are not built \(run turbo run build first\); missing files:\n {2}@acme\/unbuilt: dist\/bin\.js, dist\/index\.d\.ts, dist\/index\.js/,
    );
    // The built one was not published either: a release goes out whole or not at all.
    for (const name of ['@acme/built', '@acme/unbuilt']) await expect(packument(registry.url, name)).rejects.toThrow(/HTTP 404/);
  }, 120_000);

  it('a registry that is not running is reported unreachable by npm, pnpm and the HTTP publish', async () => {
    const down = await startRegistry(join(work, 'registry-down'));
    const url = down.url;
    await down.stop();
    const { manifest, tarball } = tinyPackage('@acme/late', '1.0.0');
    await expect(publishTarball(url, token, manifest, tarball)).rejects.toThrow(/the registry at http:\/\/127\.0\.0\.1:\d+\/ is unreachable \(ECONNREFUSED\)/);
    const app = join(work, 'app-down');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app-down', private: true }));
    const env = { ...npmEnv(join(work, 'npm-down'), url), npm_config_fetch_retries: '0' };
    expect(() => run('npm', ['install', 'zod', '--no-audit', '--no-fund'], { cwd: app, env, what: 'npm install zod', registry: url })).toThrow(/npm install zod failed \(exit code 1\): the registry at .* is unreachable/);
    const ws = tinyWorkspace('ws-down');
    // No retries: pnpm's default (2 retries, 10 s then 60 s) takes 70 s to give up. pnpm 12
    // reads its own pnpm_config_* variables for this, not npm_config_fetch_retries.
    const publisher = { ...npmEnv(join(work, 'npm-down-publisher'), url, token), pnpm_config_fetch_retries: '0' };
    expect(() => run('pnpm', ['publish', '-r', '--registry', url, '--no-git-checks'], { cwd: ws, env: publisher, what: 'pnpm publish -r', registry: url })).toThrow(
      /pnpm publish -r failed \(exit code 1\): the registry at http:\/\/127\.0\.0\.1:\d+\/ is unreachable/,
    );
  }, 120_000);

  it('verdaccio that cannot start (its storage is a file) fails naming the cause', async () => {
    const file = join(work, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(startRegistry(file, 30_000)).rejects.toThrow(/cannot keep the registry's storage in .*not-a-dir: EEXIST/);
  });
});

describe('the pieces', () => {
  it('the third-party closure of the runtime holds tsx, esbuild and this platform only', () => {
    const closure = thirdPartyClosure([{ name: 'tsx', from: join(workspaceRoot, 'packages', 'runtime') }]);
    const names = closure.packages.map((p) => p.name);
    expect(names).toContain('tsx');
    expect(names).toContain('esbuild');
    expect(names).toContain(`@esbuild/${process.platform}-${process.arch}`);
    expect(names.filter((n) => n.startsWith('@esbuild/'))).toHaveLength(1);
    expect(closure.absentOptional).toContain('@esbuild/darwin-arm64');
    expect(() => thirdPartyClosure([{ name: 'no-such-package-here', from: workspaceRoot }])).toThrow(/no-such-package-here .* is not installed in the workspace/);
  });

  it('finds workspace: ranges in every dependency field and missing export targets', () => {
    expect(workspaceRanges({ dependencies: { a: '^1.0.0', b: 'workspace:^' }, devDependencies: { c: 'workspace:*' } })).toEqual(['dependencies: b@workspace:^', 'devDependencies: c@workspace:*']);
    const manifest = { exports: { '.': { source: './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' }, bin: { x: './dist/bin.js' } };
    expect(publishedProblems(manifest, ['package.json', 'src/index.ts', 'dist/index.js', 'dist/index.d.ts'])).toEqual(['exports/bin target dist/bin.js is not in the tarball']);
    const { tarball } = tinyPackage('entries', '1.0.0');
    expect(tarballEntries(tarball).sort()).toEqual(['index.js', 'package.json']);
  });

  it('packs hard-linked files (as pnpm installs them) as regular files, which npm extracts', () => {
    const dir = join(work, 'hardlinked');
    mkdirSync(join(dir, 'v4'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hardlinked', version: '1.0.0' }));
    writeFileSync(join(dir, 'index.js'), 'export * from "./v4/index.js";\n');
    linkSync(join(dir, 'index.js'), join(dir, 'v4', 'index.js'));
    const listing = execFileSync('tar', ['-tzv'], { input: packInstalled(dir), encoding: 'utf8' });
    expect(listing).toMatch(/^-\S+.* package\/v4\/index\.js$/m);
    expect(listing).not.toMatch(/^h/m);
  });

  it('orders versions numerically and diagnoses tool output', () => {
    expect(['0.28.2', '0.9.0', '0.27.10', '0.27.7'].sort(compareVersions)).toEqual(['0.9.0', '0.27.7', '0.27.10', '0.28.2']);
    expect(diagnose('npm error code E404\nnpm error 404 Not Found - GET http://127.0.0.1:1/@acme%2fx - no such package', 'R')).toMatch(/not on R \(@acme\/x\)/);
    expect(diagnose('npm error code EPUBLISHCONFLICT', 'R')).toMatch(/already published/);
    expect(diagnose('all fine', 'R')).toBeUndefined();
  });
});
