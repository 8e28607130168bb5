import type { IOBuf } from '@ebbrt/interfaces';

/** Options of {@link startMemcached}. */
export interface MemcachedOptions {
  /** TCP port to listen on (0 = ephemeral; the bound one is `server.port`). Default 11211. */
  port?: number;
  /** Evict (LRU) once the store pins more than this many bytes. Default 64 MiB. */
  memoryLimit?: number;
  /** Largest value accepted. Default 1 MiB. */
  maxItemSize?: number;
  /** Unix time in ms (injected for deterministic tests). Default Date.now. */
  nowMs?: () => number;
  /** Allocator for reply and number buffers (may throw OutOfMemoryError). Default IOBuf.allocate. */
  allocate?: (size: number) => IOBuf;
  /** Cores serving connections, reported as `threads`. Default 1. */
  threads?: number;
  /** Where diagnostics go (connection failures). Default: dropped. */
  log?: (line: string) => void;
  /**
   * The node's memory, beyond the store's own limit: stored values pin the very buffers they
   * arrived in, so a store near the node's size would starve the NIC of receive buffers. When
   * `freeBytes()` drops under `reserveBytes`, the store evicts (LRU) to give memory back.
   */
  memoryPressure?: MemoryPressureProbe;
}

export interface MemoryPressureProbe {
  /** Free memory of the node now (e.g. the MemoryAllocator's free page bytes). */
  freeBytes(): number;
  /** Keep at least this much free. */
  readonly reserveBytes: number;
}

/** Receive batches between two looks at the node's free memory. */
export const PRESSURE_CHECK_INTERVAL = 32;

export const DEFAULT_PORT = 11211;
export const DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_MAX_ITEM_SIZE = 1024 * 1024;
/** What `version` reports: 1.6-compatible (memccapable changes its checks for 1.6 servers). */
export const VERSION = '1.6.0-ebbrt-ts';
