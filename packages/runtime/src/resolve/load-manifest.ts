import {
  PackageResolutionError,
  checkManifestFits,
  validateManifest,
  type EbbManifest,
  type Target,
} from '@ebbrt/interfaces';
import { importUrl, loadOnce } from './module-cache.js';
import { resolveModule, type ResolveOptions } from './resolve-module.js';

export type { ResolveOptions };

/**
 * Imports an Ebb implementation package by name and returns its validated
 * manifest, checked to implement `kind` on `target`.
 */
export async function loadManifest(
  specifier: string,
  kind: string,
  target: Target,
  options: ResolveOptions,
): Promise<EbbManifest> {
  const cached = options.cache?.get(specifier) as Promise<EbbManifest> | undefined;
  const loading = cached ?? importManifest(specifier, options);
  if (cached === undefined) options.cache?.set(specifier, loading);
  const manifest = await loading;
  checkManifestFits(manifest, specifier, kind, target);
  return manifest;
}

/** The manifest at `specifier`'s URL, imported and validated once per `options.modules`. */
function importManifest(specifier: string, options: ResolveOptions): Promise<EbbManifest> {
  const url = resolveModule(specifier, options);
  return loadOnce(options.modules, `manifest:${url}`, () => importAndValidate(specifier, url));
}

/**
 * Manifests already validated, by the object the module exports. A module's namespace (and so its
 * `manifest`) lives as long as the process, and validating the same object again can only give the
 * same answer: a warm boot spent 0.6 ms re-validating ~15 manifests with zod. A rejected one is not kept.
 */
const validated = new WeakMap<object, EbbManifest>();

async function importAndValidate(specifier: string, url: string): Promise<EbbManifest> {
  let module: { manifest?: unknown };
  try {
    module = await importUrl<{ manifest?: unknown }>(url);
  } catch (error) {
    throw new PackageResolutionError(specifier, `failed to load: ${(error as Error).message}`);
  }
  const exported = module.manifest;
  if (typeof exported !== 'object' || exported === null) return validateManifest(specifier, exported);
  let manifest = validated.get(exported);
  if (manifest === undefined) {
    manifest = validateManifest(specifier, exported);
    validated.set(exported, manifest);
  }
  return manifest;
}
