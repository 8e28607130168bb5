import type { EventManager } from './event-manager.js';
import type { FileSystem } from './file-system.js';
import type { GlobalIdMap } from './global-id-map.js';
import type { MemoryAllocator } from './memory-allocator.js';
import type { Messenger } from './messenger.js';
import type { NetworkManager } from './network-manager.js';
import type { NodeAllocator } from './node-allocator.js';
import type { Timer } from './timer.js';

/** The system Ebb interfaces a config can name, in the fixed order a node installs them. */
export const SystemInterfaces = [
  'EventManager',
  'Timer',
  'MemoryAllocator',
  'NetworkManager',
  'Messenger',
  'GlobalIdMap',
  'FileSystem',
  'NodeAllocator',
] as const;

export type SystemInterfaceName = (typeof SystemInterfaces)[number];

/** Maps an interface name to its TypeScript type. */
export interface SystemInterfaceTypes {
  EventManager: EventManager;
  Timer: Timer;
  MemoryAllocator: MemoryAllocator;
  NetworkManager: NetworkManager;
  Messenger: Messenger;
  GlobalIdMap: GlobalIdMap;
  FileSystem: FileSystem;
  NodeAllocator: NodeAllocator;
}

/**
 * The members a rep must have to implement each interface. The runtime checks a
 * package's first rep against this list, so a package that claims an interface it
 * does not implement fails at boot with the missing member named.
 */
export const InterfaceMembers: { readonly [K in SystemInterfaceName]: readonly (keyof SystemInterfaceTypes[K])[] } = {
  EventManager: [
    'spawn',
    'spawnRemote',
    'allocateVector',
    'freeVector',
    'setIdleCallback',
    'promise',
    'currentEventId',
    'getNumCore',
    'getNumNode',
    'getNum',
  ],
  Timer: ['start', 'stop', 'sleep', 'now'],
  MemoryAllocator: ['allocPages', 'freePages', 'malloc', 'tryMalloc', 'free', 'allocIOBuf', 'freeBytes', 'stats'],
  NetworkManager: ['interfaces', 'tcpListen', 'tcpConnect', 'udpBind'],
  Messenger: ['send', 'register', 'registerType', 'peers'],
  GlobalIdMap: ['get', 'set'],
  FileSystem: ['readFile', 'writeFile', 'appendFile', 'stat', 'readdir'],
  NodeAllocator: ['allocateNode', 'freeNode', 'freeAll', 'liveNodes'],
};

/** Names the members of `InterfaceMembers[kind]` that `rep` lacks (empty when it implements it). */
export function missingMembers(kind: SystemInterfaceName, rep: unknown): string[] {
  if (rep === null || (typeof rep !== 'object' && typeof rep !== 'function')) return ['(rep is not an object)'];
  const record = rep as Record<string, unknown>;
  return InterfaceMembers[kind].filter((m) => !(m in record)).map(String);
}
