/**
 * An Ebb's system-wide name: a 32-bit unsigned number.
 *
 * The id space is partitioned so that no coordination is needed to allocate:
 *
 * | range                         | who allocates                                     |
 * | ----------------------------- | ------------------------------------------------- |
 * | 0                             | never valid                                       |
 * | 1 .. 0xFF                     | well-known system Ebbs ({@link SystemEbbIds})     |
 * | 0x100 .. 0x7FFF               | a node's local ids (its EbbAllocator)             |
 * | 0x8000 .. 0xFFFF              | static user Ebbs, derived from a name             |
 * | N<<16 .. (N+1)<<16 - 1, N ≥ 1 | global ids from the id space handed to node N     |
 */
export type EbbId = number;

export const EbbIdRanges = {
  firstSystem: 0x1,
  lastSystem: 0xff,
  firstLocal: 0x100,
  lastLocal: 0x7fff,
  firstStaticUser: 0x8000,
  lastStaticUser: 0xffff,
  /** Global ids of space N are [N << spaceShift, (N + 1) << spaceShift). */
  spaceShift: 16,
  /** The largest usable space index, so that every id stays below 2^32. */
  maxSpace: 0xffff,
} as const;

/** Well-known ids of the system Ebbs. Every node translates these the same way. */
export const SystemEbbIds = {
  LocalIdMap: 1,
  EbbAllocator: 2,
  EventManager: 3,
  Timer: 4,
  MemoryAllocator: 5,
  NetworkManager: 6,
  Messenger: 7,
  GlobalIdMap: 8,
  NodeAllocator: 9,
  Console: 10,
  FileSystem: 11,
} as const;

export type SystemEbbName = keyof typeof SystemEbbIds;

export function isValidEbbId(id: number): id is EbbId {
  return Number.isInteger(id) && id > 0 && id <= 0xffffffff;
}
