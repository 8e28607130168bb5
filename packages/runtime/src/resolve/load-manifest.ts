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
  const url = resolveModule(specifier, options);
  let module: { manifest?: unknown };
  try {
    module = (await import(url)) as { manifest?: unknown };
  } catch (error) {
    throw new PackageResolutionError(specifier, `failed to load: ${(error as Error).message}`);
  }
  const manifest = validateManifest(specifier, module.manifest);
  checkManifestFits(manifest, specifier, kind, target);
  return manifest;
}
