import {
  PackageResolutionError,
  checkManifestFits,
  validateManifest,
  type EbbManifest,
  type Target,
} from '@ebbrt/interfaces';
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

/**
 * Validated manifests by resolved module URL. Node keeps every imported module for
 * the life of the process anyway; remembering the validated manifest beside it
 * saves a loader round trip (costly under a TypeScript loader) on every later boot.
 */
const imported = new Map<string, Promise<EbbManifest>>();

function importManifest(specifier: string, options: ResolveOptions): Promise<EbbManifest> {
  const url = resolveModule(specifier, options);
  let loading = imported.get(url);
  if (loading === undefined) {
    loading = importAndValidate(specifier, url);
    imported.set(url, loading);
    // A failed import is not remembered: the file may be fixed and retried.
    loading.catch(() => imported.delete(url));
  }
  return loading;
}

async function importAndValidate(specifier: string, url: string): Promise<EbbManifest> {
  let module: { manifest?: unknown };
  try {
    module = (await import(url)) as { manifest?: unknown };
  } catch (error) {
    throw new PackageResolutionError(specifier, `failed to load: ${(error as Error).message}`);
  }
  return validateManifest(specifier, module.manifest);
}
