/**
 * How every fixture installs a system Ebb from its manifest, the way the runtime's
 * `installSystemEbbs` does for a configured package: the manifest must implement `kind` on the
 * node's target, the options go through the manifest's schema (a bad one is a ConfigError naming
 * the field), and the root is checked against the kind's root contract (`RootMembers`) before it
 * is installed under its well-known id. What comes back is typed by that contract, so no fixture
 * casts a root. (The fixtures cannot call `installSystemEbbs` itself: the runtime's own tests use
 * this kit, and it loads packages by name, asynchronously, where a fixture builds its nodes
 * before anything can await.)
 */
import type { NodeContext } from '@ebbrt/core-translation';
import {
  PackageResolutionError,
  SystemEbbIds,
  checkManifestFits,
  isRootOf,
  missingRootMembers,
  parseOrThrow,
  type EbbInstallContext,
  type EbbManifest,
  type SystemInterfaceName,
  type SystemRootTypes,
} from '@ebbrt/interfaces';

/** What a fixture gives every Ebb of one node (the id is the kind's). */
export type FixtureContext = Omit<EbbInstallContext, 'id' | 'node'> & { readonly node: NodeContext };

function created<O>(kind: SystemInterfaceName, manifest: EbbManifest<O, unknown>, context: FixtureContext, options: Record<string, unknown>) {
  checkManifestFits(manifest, manifest.name, kind, context.target);
  if (manifest.options === undefined) throw new Error(`${manifest.name}: the manifest has no options schema`);
  return manifest.create({ ...context, id: SystemEbbIds[kind] }, parseOrThrow(manifest.options, options, `${manifest.name} options`));
}

function install<K extends SystemInterfaceName>(kind: K, manifest: { readonly name: string }, node: NodeContext, root: unknown): SystemRootTypes[K] {
  if (!isRootOf(kind, root)) {
    throw new PackageResolutionError(manifest.name, `is installed as ${kind} but its root lacks ${missingRootMembers(kind, root).join(', ')} (the ${kind} root contract in @ebbrt/interfaces)`);
  }
  node.install(SystemEbbIds[kind], root);
  return root;
}

/** Installs `manifest` as `kind` on `context.node` (a synchronous create only) and returns its root. */
export function installEbb<K extends SystemInterfaceName, O>(kind: K, manifest: EbbManifest<O, unknown>, context: FixtureContext, options: Record<string, unknown> = {}): SystemRootTypes[K] {
  const root = created(kind, manifest, context, options);
  if (root instanceof Promise) throw new Error(`${manifest.name}: create() returned a promise; install it with installEbbAsync`);
  return install(kind, manifest, context.node, root);
}

/** As {@link installEbb}, awaiting an asynchronous create (a Messenger binds its listener first). */
export async function installEbbAsync<K extends SystemInterfaceName, O>(kind: K, manifest: EbbManifest<O, unknown>, context: FixtureContext, options: Record<string, unknown> = {}): Promise<SystemRootTypes[K]> {
  return install(kind, manifest, context.node, await created(kind, manifest, context, options));
}
