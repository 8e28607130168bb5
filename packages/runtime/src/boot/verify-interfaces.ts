import { EbbRef } from '@ebbrt/core-translation';
import { PackageResolutionError, SystemEbbIds, missingMembers } from '@ebbrt/interfaces';
import type { InstalledEbb } from './install-ebbs.js';

/**
 * Checks, on a core of the node, that each installed Ebb's rep has every member
 * of the interface its package claims. Must run inside an event (reps are made
 * on the core that uses them).
 */
export function verifyInterfaces(installed: readonly InstalledEbb[]): void {
  for (const { kind, packageName } of installed) {
    const rep = new EbbRef<unknown>(SystemEbbIds[kind]).deref();
    const missing = missingMembers(kind, rep);
    if (missing.length > 0) {
      throw new PackageResolutionError(packageName, `claims to implement ${kind} but its rep lacks ${missing.join(', ')}`);
    }
  }
}
