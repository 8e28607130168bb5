import { z } from 'zod';
import type { EbbInstallContext, EbbRoot, Target } from './execution.js';
import { SystemInterfaces, type SystemInterfaceName } from './ebbs/interface-kinds.js';
import { parseOrThrow } from './validation.js';
import { PackageResolutionError, ConfigError } from './errors.js';

/**
 * What an Ebb implementation package exports as `manifest`: which interface it
 * implements, where it can run, the schema of its options and the factory the
 * runtime calls to install it on a node.
 */
export interface EbbManifest<Options = unknown, Rep = unknown> {
  /** The npm package name. */
  readonly name: string;
  /** A system interface name, or `user:<name>` for an application-defined interface. */
  readonly implements: SystemInterfaceName | `user:${string}`;
  readonly targets: readonly Target[];
  readonly description?: string;
  /** Validates the `options` given in an application config. */
  readonly options?: z.ZodType<Options>;
  /** Builds the Ebb's root on a node; its reps are made on first use per core. */
  create(context: EbbInstallContext, options: Options): EbbRoot<Rep> | Promise<EbbRoot<Rep>>;
}

export const targetSchema = z.enum(['native', 'hosted']);

export const manifestSchema = z.object({
  name: z.string().min(1, 'must name the npm package'),
  implements: z.union([
    z.enum(SystemInterfaces, { error: () => `must be one of ${SystemInterfaces.join(', ')} or user:<name>` }),
    z.string().regex(/^user:[\w.-]+$/, 'must be a system interface or user:<name>'),
  ]),
  targets: z.array(targetSchema).min(1, 'must list at least one target'),
  description: z.string().optional(),
  options: z
    .custom<z.ZodType>((v) => typeof (v as { safeParse?: unknown } | null)?.safeParse === 'function', {
      message: 'must be a zod schema',
    })
    .optional(),
  create: z.custom<EbbManifest['create']>((v) => typeof v === 'function', { message: 'must be a function' }),
});

/** Helps authors: a typed identity that keeps `Options` inferred from the schema. */
export function defineEbbManifest<Options, Rep>(manifest: EbbManifest<Options, Rep>): EbbManifest<Options, Rep> {
  return manifest;
}

/** Validates an imported module's `manifest` export; errors name the package and the field. */
export function validateManifest(packageName: string, exported: unknown): EbbManifest {
  if (exported === undefined) throw new PackageResolutionError(packageName, 'exports no `manifest`');
  try {
    return parseOrThrow(manifestSchema, exported, 'manifest') as unknown as EbbManifest;
  } catch (e) {
    if (e instanceof ConfigError) throw new PackageResolutionError(packageName, e.message);
    throw e;
  }
}

/** Checks that a manifest claims `kind` and supports `target`, naming what does not match. */
export function checkManifestFits(manifest: EbbManifest, packageName: string, kind: string, target: Target): void {
  if (manifest.implements !== kind) {
    throw new PackageResolutionError(
      packageName,
      `is configured as ${kind} but its manifest implements ${manifest.implements}`,
    );
  }
  if (!manifest.targets.includes(target)) {
    throw new PackageResolutionError(
      packageName,
      `does not support target "${target}" (it supports ${manifest.targets.join(', ')})`,
    );
  }
}
