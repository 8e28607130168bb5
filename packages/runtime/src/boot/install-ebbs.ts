import type { NodeContext } from '@ebbrt/core-translation';
import {
  PackageResolutionError,
  SystemEbbIds,
  SystemInterfaces,
  isRootOf,
  missingRootMembers,
  parseOrThrow,
  type EbbChoice,
  type EbbRoot,
  type FaultSink,
  type NodePlatform,
  type SystemInterfaceName,
  type SystemRootTypes,
  type Target,
} from '@ebbrt/interfaces';
import { loadManifest, type ResolveOptions } from '../resolve/load-manifest.js';
import { DEFAULT_EBBS } from './defaults.js';

/** One installed system Ebb; `root` is typed by `kind` (checked against `RootMembers` at install). */
export type InstalledEbb = {
  [K in SystemInterfaceName]: { readonly kind: K; readonly packageName: string; readonly root: SystemRootTypes[K] };
}[SystemInterfaceName];

function installedEbb<K extends SystemInterfaceName>(kind: K, packageName: string, root: unknown): InstalledEbb {
  if (!isRootOf(kind, root)) {
    const missing = missingRootMembers(kind, root);
    throw new PackageResolutionError(
      packageName,
      `is configured as ${kind} but its root lacks ${missing.join(', ')} (the ${kind} root contract in @ebbrt/interfaces)`,
    );
  }
  return { kind, packageName, root } as { kind: K; packageName: string; root: SystemRootTypes[K] } as InstalledEbb;
}

export interface InstallRequest {
  node: NodeContext;
  target: Target;
  /** The config section, for error messages: "frontend" or "backend". */
  section: string;
  choices: Partial<Record<SystemInterfaceName, EbbChoice>>;
  /** Options merged under each kind's configured options (e.g. the watchdog budget). */
  implied: Partial<Record<SystemInterfaceName, Record<string, unknown>>>;
  machine?: unknown;
  simulation?: unknown;
  /** Front-end only: where back-end nodes come from. */
  platform?: NodePlatform;
  /** Where an Ebb's lines go (through its install context's `log`), with the kind that wrote them. */
  log(kind: SystemInterfaceName, line: string): void;
  resolve: ResolveOptions;
  /**
   * Roots the runtime builds itself for a kind instead of loading a package (the virtual-clock
   * front-end's NetworkManager, the gateway bridge): `name` labels it where a package name would.
   */
  /** Simulated nodes: where Ebbs draw and count injected faults (EbbInstallContext.faults). */
  faults?: FaultSink;
  provided?: Partial<Record<SystemInterfaceName, { readonly name: string; readonly root: EbbRoot<unknown> }>>;
}

/**
 * Installs the system Ebbs of one node in the fixed boot order (SystemInterfaces),
 * each from the package the config names or the default for the target.
 */
export async function installSystemEbbs(request: InstallRequest): Promise<InstalledEbb[]> {
  const installed: InstalledEbb[] = [];
  for (const kind of SystemInterfaces) {
    const own = request.provided?.[kind];
    if (own !== undefined) {
      const ebb = installedEbb(kind, own.name, own.root);
      request.node.install(SystemEbbIds[kind], own.root);
      installed.push(ebb);
      continue;
    }
    const choice = request.choices[kind] ?? DEFAULT_EBBS[request.target][kind];
    if (choice === undefined) continue;
    const packageName = typeof choice === 'string' ? choice : choice.package;
    const given = typeof choice === 'string' ? {} : (choice.options ?? {});
    const manifest = await loadManifest(packageName, kind, request.target, request.resolve);
    const raw = { ...request.implied[kind], ...given };
    const options = manifest.options
      ? parseOrThrow(manifest.options, raw, `config.${request.section}.ebbs.${kind}.options`)
      : raw;
    const id = SystemEbbIds[kind];
    const root = await manifest.create(
      {
        id,
        node: request.node,
        target: request.target,
        machine: request.machine,
        ...(request.platform !== undefined ? { platform: request.platform } : {}),
        simulation: request.simulation,
        ...(request.faults !== undefined ? { faults: request.faults } : {}),
        log: (line: string) => request.log(kind, line),
      },
      options,
    );
    const ebb = installedEbb(kind, packageName, root);
    request.node.install(id, root);
    installed.push(ebb);
  }
  return installed;
}
