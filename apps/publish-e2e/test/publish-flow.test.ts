// The release and a user's first hour, end to end against a real registry (verdaccio on
// loopback, uplinks off): version every public package with changesets in a throwaway copy,
// `pnpm publish -r` them, then outside the workspace `npm install` the runtime from the registry,
// boot a library OS with the installed `ebbrt` bin, scaffold a new Ebb with `ebbrt new ebb`,
// test, build and publish it, and swap it into an app by its package name.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedProblems, tarballEntries } from '../src/check-published.js';
import { addUser, download, packument, publishTarball, startRegistry, verdaccioVersion, type Registry } from '../src/registry.js';
import { packInstalled, thirdPartyClosure } from '../src/third-party.js';
import { npmLogin } from '../src/npm-login.js';
import { npmEnv, run } from '../src/tools.js';
import { helloApp, swapApp } from '../src/user-apps.js';
import { buildCopy, copyWorkspace, installCopy, publicPackages, publishCopy, turboCacheDir, versionCopy, workspaceRoot } from '../src/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'ebbrt-publish-e2e-'));
const timings: Record<string, number> = {};
async function timed<T>(step: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings[step] = Math.round(performance.now() - start);
    console.log(`publish-e2e: ${step} took ${(timings[step]! / 1000).toFixed(1)} s`);
  }
}

let registry: Registry;
let publishEnv: NodeJS.ProcessEnv;
let versions: Map<string, string>;
let absentOptional: string[] = [];
const pushedThirdParty = new Set<string>();

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

/** A fresh directory outside the workspace with its own npm config (no token: installing needs none). */
function userDir(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(work, name);
  mkdirSync(dir);
  return { dir, env: npmEnv(join(work, `${name}-npm`), registry.url) };
}

const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs?: number) =>
  run('npm', [...args, '--no-audit', '--no-fund'], { cwd, env, what: `npm ${args.join(' ')} in ${cwd}`, registry: registry.url, timeoutMs });

beforeAll(async () => {
  expect(verdaccioVersion()).toMatch(/^5\.33\./);
  registry = await timed('start verdaccio', () => startRegistry(join(work, 'registry')));
  const token = await addUser(registry.url, 'ebbrt-release', 'release-password');
  publishEnv = npmEnv(join(work, 'publisher-npm'), registry.url, token);

  // Uplinks are off: the third-party packages the @ebbrt ones need (and the scaffold's
  // devDependencies, tsx and typescript) are packed offline from node_modules and pushed.
  await timed('push third-party packages', async () => {
    const roots = publicPackages(workspaceRoot).flatMap((p) =>
      Object.keys(p.manifest.dependencies ?? {})
        .filter((d) => !d.startsWith('@ebbrt/'))
        .map((name) => ({ name, from: p.dir })),
    );
    const closure = thirdPartyClosure([...roots, { name: 'tsx', from: workspaceRoot }, { name: 'typescript', from: workspaceRoot }]);
    absentOptional = closure.absentOptional;
    for (const p of closure.packages) {
      await publishTarball(registry.url, token, p.manifest, packInstalled(p.dir));
      pushedThirdParty.add(p.name);
    }
  });
}, 300_000);

afterAll(async () => {
  console.log(`PUBLISH_E2E_JSON ${JSON.stringify({ timings })}`);
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('publishing to a real registry (verdaccio, loopback, uplinks off)', () => {
  it('versions every public package with changesets in a throwaway copy and publishes them all with pnpm publish -r', async () => {
    const copy = join(work, 'release');
    const files = await timed('copy the workspace (git ls-files)', () => copyWorkspace(workspaceRoot, copy));
    expect(files).toBeGreaterThan(100);
    await timed('pnpm install --offline in the copy', () => installCopy(copy));
    const names = publicPackages(copy).map((p) => p.name);
    await timed('turbo build of the public packages', () => buildCopy(copy, names, turboCacheDir(workspaceRoot)));
    versions = await timed('changeset version', () => versionCopy(copy, 'Release for the publish end-to-end test.'));
    const out = await timed('pnpm publish -r', () => publishCopy(copy, registry.url, publishEnv));
    for (const name of names) expect(out).toContain(`${name}@${versions.get(name)}`);

    // The checkout itself was not versioned.
    for (const p of publicPackages(workspaceRoot)) expect(versions.get(p.name)).not.toBe(p.version);

    // What the registry serves: every package at its new version, no workspace: range, every export target inside.
    await timed('check what the registry serves', async () => {
      for (const name of names) {
        const doc = await packument(registry.url, name);
        const version = versions.get(name)!;
        expect(doc['dist-tags'].latest, name).toBe(version);
        const manifest = doc.versions[version]!;
        const entries = tarballEntries(await download(manifest.dist.tarball));
        expect(publishedProblems(manifest, entries), `${name}@${version}`).toEqual([]);
        expect(entries.some((e) => e.startsWith('dist/')), name).toBe(true);
        for (const [dep, range] of Object.entries((manifest.dependencies ?? {}) as Record<string, string>)) {
          if (dep.startsWith('@ebbrt/')) expect(range, `${name} -> ${dep}`).toBe(`^${versions.get(dep)}`);
          else expect(pushedThirdParty.has(dep), `${name} needs ${dep}, which is not on the registry`).toBe(true);
        }
      }
    });
  }, 900_000);

  it('npm install @ebbrt/runtime @ebbrt/event-manager in a fresh directory, then boots a library OS with the installed ebbrt bin', async () => {
    const { dir, env } = userDir('hello-app');
    writeFiles(dir, helloApp());
    await timed('npm install @ebbrt/runtime @ebbrt/event-manager @ebbrt/core-translation', () => npm(['install', '@ebbrt/runtime', '@ebbrt/event-manager', '@ebbrt/core-translation'], dir, env));
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules/@ebbrt/runtime/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(versions.get('@ebbrt/runtime'));
    // esbuild's other platforms answered 404 (uplinks are off) and npm carried on without them.
    expect(absentOptional).toContain('@esbuild/darwin-arm64');
    expect(await registry.waitForLog(/404.*GET \/@esbuild%2fdarwin-arm64/i)).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@esbuild/linux-x64'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@esbuild/darwin-arm64'))).toBe(false);

    const out = await timed('ebbrt run (installed bin)', () => run(join(dir, 'node_modules/.bin/ebbrt'), ['run', '.', '--seed', '7'], { cwd: dir, env, what: `ebbrt run in ${dir}` }));
    for (const node of [1, 2]) {
      expect(out).toMatch(new RegExp(`\\[node ${node} boot\\] booted: 2 cores; EventManager=@ebbrt/event-manager, Timer=@ebbrt/event-manager/timer`));
      for (const core of [0, 1]) {
        expect(out).toContain(`[node ${node} core ${core}] registry hello from node ${node} core ${core}`);
        expect(out).toMatch(new RegExp(`\\[node ${node} core ${core}\\] core ${core} woke at t=(\\d+) us`));
      }
    }
    // The Timer really slept in virtual time: core 1 (500 us) wakes after core 0 (250 us).
    const woke = (core: number) => Number(new RegExp(`\\[node 1 core ${core}\\] core ${core} woke at t=(\\d+) us`).exec(out)![1]);
    expect(woke(0)).toBeGreaterThanOrEqual(250);
    expect(woke(1)).toBeGreaterThanOrEqual(500);
  }, 300_000);

  it('ebbrt new ebb scaffolds a package that passes its own npm test and build, publishes, and an app swaps it in by package name', async () => {
    const { dir: home, env } = userDir('ebb-author');
    const hello = join(work, 'hello-app');
    const ebbrt = join(hello, 'node_modules/.bin/ebbrt');
    // A bad name through the installed bin: refused with npm's rule, and nothing written.
    expect(() => run(ebbrt, ['new', 'ebb', 'My-Ebb', '--dir', join(home, 'bad')], { cwd: home, env, what: 'ebbrt new ebb My-Ebb' })).toThrow(
      /ebbrt new ebb My-Ebb failed \(exit code \d+\)[\s\S]*"My-Ebb" is not a valid npm package name: it has uppercase letters/,
    );
    expect(existsSync(join(home, 'bad'))).toBe(false);
    run(ebbrt, ['new', 'ebb', '@acme/idmap', '--dir', join(home, 'idmap')], { cwd: home, env, what: 'ebbrt new ebb @acme/idmap' });
    const ebbDir = join(home, 'idmap');
    const pkg = JSON.parse(readFileSync(join(ebbDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.dependencies['@ebbrt/interfaces']).toBe(`^${versions.get('@ebbrt/runtime')}`);
    for (const dep of Object.keys(pkg.devDependencies)) expect(pushedThirdParty.has(dep), `the scaffold needs ${dep}: push it to the registry`).toBe(true);

    await timed('scaffold: npm install', () => npm(['install'], ebbDir, env));
    const tested = await timed('scaffold: npm test', () => npm(['test'], ebbDir, env));
    expect(tested).toMatch(/# pass 3\b/);
    expect(tested).toMatch(/# fail 0\b/);
    await timed('scaffold: npm run build', () => npm(['run', 'build'], ebbDir, env));
    for (const f of ['dist/index.js', 'dist/index.d.ts']) expect(existsSync(join(ebbDir, f)), f).toBe(true);
    // The author logs in as the README says (npm login --registry, npm's own prompts), a user of
    // their own, not the release's token.
    await timed('scaffold: npm login', () => npmLogin(registry.url, { env, cwd: ebbDir, user: 'acme-author', password: 'acme-password' }));
    expect(npm(['whoami'], ebbDir, env).trim()).toBe('acme-author');
    await timed('scaffold: npm publish', () => npm(['publish'], ebbDir, env));
    const published = await packument(registry.url, '@acme/idmap');
    expect(published['dist-tags'].latest).toBe('0.1.0');
    expect(publishedProblems(published.versions['0.1.0']!, tarballEntries(await download(published.versions['0.1.0']!.dist.tarball)))).toEqual([]);

    // A second app, in its own fresh directory, installs it from the registry and names it in its config.
    const { dir: app, env: appEnv } = userDir('swap-app');
    writeFiles(app, swapApp('@acme/idmap'));
    await timed('npm install the app with @acme/idmap', () => npm(['install', '@ebbrt/runtime', '@ebbrt/core-translation', '@acme/idmap'], app, appEnv));
    expect(existsSync(join(app, 'node_modules/@acme/idmap/dist/index.js'))).toBe(true);
    const out = await timed('ebbrt run (swapped GlobalIdMap)', () => run(join(app, 'node_modules/.bin/ebbrt'), ['run', '.'], { cwd: app, env: appEnv, what: `ebbrt run in ${app}` }));
    for (const node of [1, 2]) {
      expect(out).toMatch(new RegExp(`\\[node ${node} boot\\] booted: .*GlobalIdMap=@acme/idmap`));
      expect(out).toContain(`[node ${node} boot] @acme/idmap: GlobalIdMap ready on node ${node}`);
      expect(out).toContain(`[node ${node} core 0] idmap says kept by node ${node}`);
    }
  }, 600_000);
});
