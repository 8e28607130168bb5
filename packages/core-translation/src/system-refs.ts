import { SystemEbbIds, type SystemInterfaceName, type SystemInterfaceTypes } from '@ebbrt/interfaces';
import { EbbRef } from './ebb-ref.js';

/**
 * A typed reference to a system Ebb by its interface name. Keep the returned
 * ref (in a rep, or a local) rather than calling this per use: each ref carries
 * its own translation cache.
 */
export function systemEbb<K extends SystemInterfaceName>(kind: K): EbbRef<SystemInterfaceTypes[K]> {
  return new EbbRef<SystemInterfaceTypes[K]>(SystemEbbIds[kind]);
}
