// The non-@ebbrt packages a registry with no uplinks must hold before `npm install @ebbrt/runtime`
// can work, found and packed offline from the workspace's node_modules (pnpm's .pnpm store
// layout), never downloaded.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PackageManifest } from './registry.js';

export interface LocalPackage {
  name: string;
  version: string;
  /** The installed package's real directory (under node_modules/.pnpm). */
  dir: string;
  manifest: PackageManifest;
}

export interface Closure {
  packages: LocalPackage[];
  /**
   * Optional dependencies that are not installed here (esbuild's other platforms, fsevents):
   * the registry will answer 404 for them, which npm must tolerate.
   */
  absentOptional: string[];
}

/** Node's lookup of `name` from a package's real directory: each ancestor's node_modules. */
export function findInstalled(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) return realpathSync(dirname(candidate));
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Every package reachable from `roots` (name, and the directory to resolve it from) through
 * dependencies and installed optionalDependencies; one entry per name@version.
 */
export function thirdPartyClosure(roots: ReadonlyArray<{ name: string; from: string }>): Closure {
  const byKey = new Map<string, LocalPackage>();
  const absent = new Set<string>();
  const queue = roots.map((r) => ({ ...r, optional: false }));
  while (queue.length > 0) {
    const { name, from, optional } = queue.shift()!;
    const dir = findInstalled(name, from);
    if (dir === undefined) {
      if (optional) {
        absent.add(name);
        continue;
      }
      throw new Error(`${name} (needed from ${from}) is not installed in the workspace: run pnpm install`);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest & {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const key = `${manifest.name}@${manifest.version}`;
    if (byKey.has(key)) continue;
    byKey.set(key, { name: manifest.name, version: manifest.version, dir, manifest });
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  }
  return { packages: [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name) || compareVersions(a.version, b.version)), absentOptional: [...absent].sort() };
}

/** Orders plain x.y.z versions (prerelease tags after the triple compare as strings). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/**
 * A registry tarball of an installed package: its files under `package/`, as npm packs them.
 * node_modules inside it (none in pnpm's layout, where dependencies are siblings) is left out.
 * Hard links are stored as files: pnpm's store links identical files together (zod's
 * v4/core/index.js and src/v4/core/index.ts), and npm does not extract tar hard-link entries.
 */
export function packInstalled(dir: string): Buffer {
  const entries = readdirSync(dir).filter((e) => e !== 'node_modules');
  return execFileSync('tar', ['-cz', '--hard-dereference', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '--transform', 's,^,package/,', ...entries], { maxBuffer: 256 * 1024 * 1024 });
}
