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
import { importUrl, loadOnce } from './module-cache.js';
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
    module = await loadOnce(options.modules, url, () => importUrl<{ platform?: unknown }>(url));
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
  if (manifest.placement === 'remote') refuseSimulatedFaults(config, packageName);
  return { packageName, manifest, options: parsed };
}

/**
 * Faults that only this process's simulation can inject: drawn from the run's seed, scheduled on
 * its clock, counted in its trace and `--stats`. A remote platform's nodes run in processes of
 * their own, on their own clocks, so these would silently not happen there: refused, naming the
 * field. (Link and NIC faults do apply: each node process builds its segment from the config.)
 */
function refuseSimulatedFaults(config: AppConfig, packageName: string): void {
  const where = `${packageName} runs each node in a process of its own`;
  if (config.backend?.machine.faults !== undefined) {
    throw new ConfigError('config.backend.machine.faults', `core faults are simulated by the in-process platform only: ${where}, whose cores are not the run's simulated ones (remove the faults, or use platform: 'in-process')`);
  }
  if (config.backend?.faults?.crash !== undefined) {
    throw new ConfigError('config.backend.faults.crash', `a node crash and restart is injected by the in-process platform only: ${where}, which this run's seed does not schedule (remove it, or use platform: 'in-process'; to kill a node process, use PlatformNode.kill)`);
  }
  if (config.network?.partition !== undefined) {
    throw new ConfigError('config.network.partition', `a partition is made on the in-process platform's switch only: ${where}, each on a network segment of its own with no shared switch to cut (remove it, or use platform: 'in-process')`);
  }
}
