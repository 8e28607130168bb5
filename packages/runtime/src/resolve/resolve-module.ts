import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PackageResolutionError } from '@ebbrt/interfaces';
import { resolveOnce, type ModuleCache } from './module-cache.js';

export interface ResolveOptions {
  /** The app's directory: path specifiers ("./my-ebb.ts") are relative to it. */
  appDir: string;
  /** Directories to resolve packages from, in order. */
  bases: readonly string[];
  /** Load workspace packages from TypeScript sources (dev mode). */
  preferSource: boolean;
  /** Manifests already loaded in this run, by specifier: 100 nodes resolve each package once. */
  cache?: Map<string, Promise<unknown>>;
  /** Modules imported for this run, or for all of a seed runner's runs (see ModuleCache). */
  modules?: ModuleCache;
}

/** Splits "@scope/name/sub" into the package name and the export subpath "./sub". */
export function splitSpecifier(specifier: string): { packageName: string; subpath: string } {
  const parts = specifier.split('/');
  const nameParts = specifier.startsWith('@') ? 2 : 1;
  if (parts.length < nameParts || parts.slice(0, nameParts).some((p) => p.length === 0)) {
    throw new PackageResolutionError(specifier, 'is not a valid package name');
  }
  const rest = parts.slice(nameParts).join('/');
  return { packageName: parts.slice(0, nameParts).join('/'), subpath: rest ? `./${rest}` : '.' };
}

type ExportTarget = string | { [condition: string]: ExportTarget } | null;

function pick(target: ExportTarget | undefined, conditions: readonly string[]): string | undefined {
  if (target == null) return undefined;
  if (typeof target === 'string') return target;
  for (const [condition, value] of Object.entries(target)) {
    if (conditions.includes(condition)) {
      const found = pick(value, conditions);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

interface PackageJson {
  exports?: ExportTarget | Record<string, ExportTarget>;
  main?: string;
}

/** The file a package exports at `subpath` under `conditions`, per Node's exports rules (no patterns). */
function exportEntry(pkg: PackageJson, subpath: string, conditions: readonly string[]): string | undefined {
  const { exports } = pkg;
  if (exports === undefined) return subpath === '.' ? (pkg.main ?? './index.js') : undefined;
  const keyed = exports !== null && typeof exports === 'object' && Object.keys(exports).some((k) => k.startsWith('.'));
  if (!keyed) return subpath === '.' ? pick(exports as ExportTarget, conditions) : undefined;
  return pick((exports as Record<string, ExportTarget>)[subpath], conditions);
}

/**
 * Finds the file an Ebb module specifier names, searching from each base
 * directory in turn (the app first, then the runtime, which carries the default
 * implementations). Reads the package's `exports` map itself so that, when the
 * runtime runs from TypeScript sources, workspace packages load from `source`. A specifier is
 * resolved once per process for the same app directory and bases (see module-cache's resolveOnce).
 */
export function resolveModule(specifier: string, options: ResolveOptions): string {
  const key = [specifier, options.appDir, options.preferSource ? 'source' : 'built', ...options.bases].join('\0');
  return resolveOnce(key, () => resolveNow(specifier, options));
}

function resolveNow(specifier: string, options: ResolveOptions): string {
  const { bases, preferSource } = options;
  if (isPathSpecifier(specifier)) return resolvePath(specifier, options.appDir);
  const { packageName, subpath } = splitSpecifier(specifier);
  let manifestPath: string | undefined;
  for (const base of bases) {
    try {
      manifestPath = createRequire(join(base, 'noop.js')).resolve(`${packageName}/package.json`);
      break;
    } catch {
      // Not installed where this base can see it; try the next base.
    }
  }
  if (manifestPath === undefined) {
    throw new PackageResolutionError(
      specifier,
      `cannot be found (is it installed? searched from ${bases.join(', ')})`,
    );
  }
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageJson;
  const conditions = preferSource ? ['source', 'import', 'node', 'default'] : ['import', 'node', 'default'];
  const entry = exportEntry(pkg, subpath, conditions);
  if (entry === undefined) {
    throw new PackageResolutionError(specifier, `package "${packageName}" does not export "${subpath}"`);
  }
  const file = join(dirname(manifestPath), entry);
  if (!existsSync(file)) {
    throw new PackageResolutionError(specifier, `resolves to ${file}, which does not exist (was it built?)`);
  }
  return pathToFileURL(file).href;
}

/** A local module named by path ("./ebbs/my-timer.ts"), for Ebbs that live in the app itself. */
function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier);
}

function resolvePath(specifier: string, appDir: string): string {
  const file = resolve(appDir, specifier);
  if (!existsSync(file)) throw new PackageResolutionError(specifier, `is not a file (looked for ${file})`);
  return pathToFileURL(file).href;
}
