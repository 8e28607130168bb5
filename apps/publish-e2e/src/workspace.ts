// The release, done in a throwaway copy of the workspace so the checkout is never touched:
// copy the tracked (and untracked, not ignored) files, install offline from pnpm's store, build
// with turbo (sharing the checkout's turbo cache), version every public package with changesets,
// and `pnpm publish -r` them to a registry.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportTargets } from './check-published.js';
import { cleanEnv, run } from './tools.js';

export interface WorkspacePackage {
  name: string;
  version: string;
  dir: string;
  private: boolean;
  manifest: Record<string, unknown> & { dependencies?: Record<string, string> };
}

/** The workspace root holding this app (two levels up). */
export const workspaceRoot = join(import.meta.dirname, '..', '..', '..');

/** Every package under packages/ (public and private), read from `root`. */
export function workspacePackages(root: string): WorkspacePackage[] {
  return readdirSync(join(root, 'packages'))
    .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
    .map((d) => {
      const dir = join(root, 'packages', d);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as WorkspacePackage['manifest'] & { name: string; version: string; private?: boolean };
      return { name: manifest.name, version: manifest.version, dir, private: manifest.private === true, manifest };
    });
}

/** The public (published) packages. */
export const publicPackages = (root: string): WorkspacePackage[] => workspacePackages(root).filter((p) => !p.private);

/**
 * Copies the files git would commit (tracked, plus untracked ones that are not ignored, so
 * uncommitted work is included) from `root` to `dest`. Returns how many were copied.
 */
export function copyWorkspace(root: string, dest: string): number {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let copied = 0;
  for (const file of new Set(listed.split('\0').filter(Boolean))) {
    const from = join(root, file);
    // A tracked file deleted in the checkout is not part of it any more.
    if (!existsSync(from) || !lstatSync(from).isFile()) continue;
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    copyFileSync(from, join(dest, file));
    copied++;
  }
  if (!existsSync(join(dest, 'pnpm-workspace.yaml'))) throw new Error(`${root} is not the workspace root (no pnpm-workspace.yaml was copied)`);
  return copied;
}

/**
 * Where turbo keeps the checkout's build cache: `.turbo/cache` beside the repository's common git
 * directory (turbo shares one cache between a repository's git worktrees), so the copy reuses
 * what `pnpm build` in the checkout (or an earlier run of this test) already built.
 */
export function turboCacheDir(root: string): string {
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root, encoding: 'utf8' }).trim();
    return join(dirname(common), '.turbo', 'cache');
  } catch {
    return join(root, '.turbo', 'cache');
  }
}

/** `pnpm install --offline --frozen-lockfile`: everything comes from pnpm's store, nothing from a registry. */
export function installCopy(dest: string): void {
  run('pnpm', ['install', '--offline', '--frozen-lockfile', '--reporter=append-only'], { cwd: dest, env: cleanEnv(), what: `pnpm install --offline in the copy ${dest}`, timeoutMs: 300_000 });
}

/**
 * Builds every public package with turbo. `cacheDir` is shared with the checkout's own
 * `pnpm build` (.turbo/cache): turbo hashes each package's inputs, so a package whose sources
 * are unchanged is restored from the cache instead of rebuilt.
 */
export function buildCopy(dest: string, names: readonly string[], cacheDir: string): string {
  const filters = names.map((n) => `--filter=${n}`);
  return run(join(dest, 'node_modules', '.bin', 'turbo'), ['run', 'build', ...filters, `--cache-dir=${cacheDir}`, '--output-logs=errors-only'], {
    cwd: dest,
    env: cleanEnv(),
    what: `turbo run build in the copy ${dest}`,
    timeoutMs: 600_000,
  });
}

/**
 * Versions the copy with changesets: a changeset that bumps every public package (patch), then
 * `changeset version` (which also applies the changesets already pending in .changeset/).
 * Returns each package's new version.
 */
export function versionCopy(dest: string, summary: string): Map<string, string> {
  const packages = publicPackages(dest);
  const frontMatter = packages.map((p) => `'${p.name}': patch`).join('\n');
  writeFileSync(join(dest, '.changeset', 'publish-e2e-release.md'), `---\n${frontMatter}\n---\n\n${summary}\n`);
  run(join(dest, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: dest, env: cleanEnv(), what: `changeset version in the copy ${dest}` });
  const versions = new Map(publicPackages(dest).map((p) => [p.name, p.version]));
  for (const p of packages) {
    if (versions.get(p.name) === p.version) throw new Error(`changeset version did not bump ${p.name} (still ${p.version})`);
  }
  return versions;
}

/**
 * Each public package's exports/bin/main/types targets that are not on disk in `dest`, as
 * "<name>: <file>, <file>" (empty when every package is built). Publishing skips scripts, so a
 * package whose build did not run or wrote elsewhere would otherwise go out without its dist/.
 */
export function unbuiltPackages(dest: string): string[] {
  const problems: string[] = [];
  for (const p of publicPackages(dest)) {
    const missing = exportTargets(p.manifest).filter((t) => !existsSync(join(p.dir, t)));
    if (missing.length > 0) problems.push(`${p.name}: ${missing.join(', ')}`);
  }
  return problems;
}

/**
 * `pnpm publish -r` of every public package to `registry`, authenticated by the token in
 * `userconfig`. Scripts are skipped because buildCopy has just built everything (each
 * package's prepack would build it again, one at a time), so it first refuses, publishing
 * nothing, when a package's build output is missing. Afterwards every package must have been
 * published: `pnpm publish -r` exits 0 and publishes nothing for a version the registry already
 * holds ("There are no new packages that should be published").
 */
export function publishCopy(dest: string, registry: string, env: NodeJS.ProcessEnv): string {
  const unbuilt = unbuiltPackages(dest);
  if (unbuilt.length > 0) {
    throw new Error(`nothing was published to ${registry}: ${unbuilt.length} package(s) are not built (run turbo run build first); missing files:\n  ${unbuilt.join('\n  ')}`);
  }
  const out = run('pnpm', ['publish', '-r', '--registry', registry, '--no-git-checks', '--ignore-scripts', '--report-summary'], {
    cwd: dest,
    env,
    registry,
    what: `pnpm publish -r to ${registry}`,
    timeoutMs: 300_000,
  });
  // --report-summary writes what was really published to pnpm-publish-summary.json.
  const summary = JSON.parse(readFileSync(join(dest, 'pnpm-publish-summary.json'), 'utf8')) as { publishedPackages: { name: string; version: string }[] };
  const published = new Set(summary.publishedPackages.map((p) => `${p.name}@${p.version}`));
  const skipped = publicPackages(dest)
    .map((p) => `${p.name}@${p.version}`)
    .filter((id) => !published.has(id));
  if (skipped.length > 0) {
    throw new Error(
      `pnpm publish -r to ${registry} did not publish ${skipped.join(', ')}: that version is already on the registry (pnpm skips it and exits 0); bump it with a changeset and changeset version\n--- output ---\n${out.trim()}`,
    );
  }
  return out;
}
