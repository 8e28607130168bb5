import {
  ConfigError,
  PLATFORM_SHORTHANDS,
  PackageResolutionError,
  parseOrThrow,
  validatePlatformManifest,
  type AppConfig,
  type PlatformChoice,
  type PlatformManifest,
} from '@ebbrt/interfaces';
import { loadOnce } from './module-cache.js';
import { resolveModule, type ResolveOptions } from './resolve-module.js';

const FIELD = 'config.backend.platform';

export interface ResolvedPlatform {
  readonly packageName: string;
  readonly manifest: PlatformManifest;
  /** The options, parsed by the manifest's schema. */
  readonly options: unknown;
}

/**
 * Resolves the config's `backend.platform` like an Ebb: a shorthand ('in-process', 'process') or a
 * package name, imported and its `platform` manifest validated; its options parsed by the
 * manifest's schema (errors name `config.backend.platform.options.<field>`), and what it needs of
 * the config (a realtime clock, a network) checked, naming the field.
 */
export async function loadPlatform(config: AppConfig, choice: PlatformChoice, options: ResolveOptions): Promise<ResolvedPlatform> {
  const named = typeof choice === 'string' ? choice : choice.package;
  const packageName = PLATFORM_SHORTHANDS[named] ?? named;
  const url = resolveModule(packageName, options);
  let module: { platform?: unknown };
  try {
    module = await loadOnce(options.modules, url, () => import(url) as Promise<{ platform?: unknown }>);
  } catch (error) {
    throw new PackageResolutionError(packageName, `failed to load: ${(error as Error).message}`);
  }
  const manifest = validatePlatformManifest(packageName, module.platform);
  const given = typeof choice === 'string' ? {} : (choice.options ?? {});
  const parsed = manifest.options ? parseOrThrow(manifest.options, given, `${FIELD}.options`) : given;
  if (manifest.needs?.realtime && config.clock !== 'realtime') {
    throw new ConfigError(FIELD, `${packageName} runs nodes with real sockets: it needs clock: 'realtime'`);
  }
  if (manifest.needs?.network && config.network === undefined) {
    throw new ConfigError(FIELD, `${packageName} needs a network section (the nodes talk over it)`);
  }
  return { packageName, manifest, options: parsed };
}
