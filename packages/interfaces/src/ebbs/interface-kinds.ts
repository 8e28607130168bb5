import type { EbbRoot } from '../execution.js';
import type { EventManager, EventManagerRoot } from './event-manager.js';
import type { FileSystem } from './file-system.js';
import type { GlobalIdMap } from './global-id-map.js';
import type { MemoryAllocator, MemoryAllocatorRoot } from './memory-allocator.js';
import type { Messenger, MessengerRoot } from './messenger.js';
import type { NetworkManager, NetworkManagerRoot } from './network-manager.js';
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
  FileSystem: ['readFile', 'writeFile', 'appendFile', 'stat', 'readdir', 'lstat', 'read', 'write', 'truncate', 'mkdir', 'unlink', 'rmdir', 'rename'],
  NodeAllocator: ['allocateNode', 'freeNode', 'freeAll', 'liveNodes'],
};

/** Names the members of `InterfaceMembers[kind]` that `rep` lacks (empty when it implements it). */
export function missingMembers(kind: SystemInterfaceName, rep: unknown): string[] {
  if (rep === null || (typeof rep !== 'object' && typeof rep !== 'function')) return ['(rep is not an object)'];
  const record = rep as Record<string, unknown>;
  return InterfaceMembers[kind].filter((m) => !(m in record)).map(String);
}

/**
 * Maps an interface name to what the runtime may use of its *root* (installed in the node's
 * LocalIdMap). Most kinds need only the fault handler and the optional lifecycle; a few have a
 * contract of their own, because the runtime boots through it (EventManager), links nodes through
 * it (Messenger) or relays through it (NetworkManager's gateway).
 */
export interface SystemRootTypes {
  EventManager: EventManagerRoot;
  Timer: EbbRoot<Timer>;
  MemoryAllocator: MemoryAllocatorRoot;
  NetworkManager: NetworkManagerRoot;
  Messenger: MessengerRoot;
  GlobalIdMap: EbbRoot<GlobalIdMap>;
  FileSystem: EbbRoot<FileSystem>;
  NodeAllocator: EbbRoot<NodeAllocator>;
}

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/**
 * The members a root must have for its kind (optional capabilities excluded). The runtime checks
 * a package's root against this list when it installs it, so a second implementation that lacks
 * one is refused at boot with the member named, not found out when a call silently fails.
 */
export const RootMembers: { readonly [K in SystemInterfaceName]: readonly RequiredKeys<SystemRootTypes[K]>[] } = {
  EventManager: ['handleFault', 'post', 'totalEvents', 'onEventFailure', 'shutdown'],
  Timer: ['handleFault'],
  MemoryAllocator: ['handleFault', 'stats'],
  NetworkManager: ['handleFault'],
  Messenger: ['handleFault', 'port', 'listening', 'setPeer', 'forgetPeer'],
  GlobalIdMap: ['handleFault'],
  FileSystem: ['handleFault'],
  NodeAllocator: ['handleFault'],
};

/** Names the members of `RootMembers[kind]` that `root` lacks (empty when it has them all). */
export function missingRootMembers(kind: SystemInterfaceName, root: unknown): string[] {
  if (root === null || (typeof root !== 'object' && typeof root !== 'function')) return ['(root is not an object)'];
  return RootMembers[kind].filter((m) => !(m in root)).map(String);
}

/** Narrows an installed root to its kind's contract, when it has every required member. */
export function isRootOf<K extends SystemInterfaceName>(kind: K, root: unknown): root is SystemRootTypes[K] {
  return missingRootMembers(kind, root).length === 0;
}
