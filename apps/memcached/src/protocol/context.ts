import type { MemcachedStore } from '../store/index.js';

/** Server-wide connection counters (shared by every connection, on every core). */
export class ConnectionCounters {
  curr_connections = 0;
  total_connections = 0;
  rejected_connections = 0;
  /** Connections closed because of malformed input. */
  protocol_errors = 0;
}

/** What the protocol sessions of one server share: the store, counters and settings. */
export interface ProtocolContext {
  readonly store: MemcachedStore;
  readonly connections: ConnectionCounters;
  /** Reported by `version` and `stats` (1.6-compatible, which memccapable checks for). */
  readonly version: string;
  /** Cores serving connections, reported as `threads`. */
  readonly threads: number;
  /** Process id reported by `stats`. */
  readonly pid: number;
  /** Clock reading (ms) when the server started. */
  readonly startedMs: number;
  verbosity: number;
}

/** The general `stats` list, in memcached's names and order (cold path: allocates). */
export function generalStats(ctx: ProtocolContext): Array<[string, string]> {
  const s = ctx.store;
  const c = s.counters;
  const now = s.now();
  const uptime = Math.max(0, Math.floor((now - ctx.startedMs) / 1000));
  return [
    ['pid', String(ctx.pid)],
    ['uptime', String(uptime)],
    ['time', String(Math.floor(now / 1000))],
    ['version', ctx.version],
    ['pointer_size', '64'],
    ['curr_connections', String(ctx.connections.curr_connections)],
    ['total_connections', String(ctx.connections.total_connections)],
    ['cmd_get', String(c.cmd_get)],
    ['cmd_set', String(c.cmd_set)],
    ['cmd_flush', String(c.cmd_flush)],
    ['cmd_touch', String(c.cmd_touch)],
    ['get_hits', String(c.get_hits)],
    ['get_misses', String(c.get_misses)],
    ['get_expired', String(c.get_expired)],
    ['delete_misses', String(c.delete_misses)],
    ['delete_hits', String(c.delete_hits)],
    ['incr_misses', String(c.incr_misses)],
    ['incr_hits', String(c.incr_hits)],
    ['decr_misses', String(c.decr_misses)],
    ['decr_hits', String(c.decr_hits)],
    ['cas_misses', String(c.cas_misses)],
    ['cas_hits', String(c.cas_hits)],
    ['cas_badval', String(c.cas_badval)],
    ['touch_hits', String(c.touch_hits)],
    ['touch_misses', String(c.touch_misses)],
    ['threads', String(ctx.threads)],
    ['bytes', String(s.chargedBytes)],
    ['value_bytes', String(s.valueBytesStored)],
    ['pinned_buffers', String(s.pinnedStorages)],
    ['curr_items', String(s.itemCount)],
    ['total_items', String(c.total_items)],
    ['evictions', String(c.evictions)],
    ['pressure_evictions', String(c.pressure_evictions)],
    ['reclaimed', String(c.reclaimed)],
    ['limit_maxbytes', String(s.memoryLimit)],
    ['protocol_errors', String(ctx.connections.protocol_errors)],
  ];
}

/** `stats settings`: the settings that mean something here, in memcached 1.6's order and names. */
export function settingsStats(ctx: ProtocolContext): Array<[string, string]> {
  return [
    ['maxbytes', String(ctx.store.memoryLimit)],
    ['verbosity', String(ctx.verbosity)],
    ['evictions', 'on'],
    ['growth_factor', '1.25'],
    ['chunk_size', '48'],
    ['num_threads', String(ctx.threads)],
    ['stat_key_prefix', ':'],
    ['detail_enabled', 'no'],
    ['cas_enabled', 'yes'],
    ['binding_protocol', 'auto-negotiate'],
    ['item_size_max', String(ctx.store.maxItemSize)],
    ['slab_chunk_max', String(Math.floor(ctx.store.maxItemSize / 2))],
    ['flush_enabled', 'yes'],
    ['dump_enabled', 'yes'],
  ];
}

/**
 * A named stats group both protocols answer (`stats items`, binary STAT "slabs"...), or
 * undefined for a name memcached does not know (`ERROR`, binary key-not-found).
 */
export function namedStats(ctx: ProtocolContext, name: string): Array<[string, string]> | undefined {
  switch (name) {
    case 'settings':
      return settingsStats(ctx);
    case 'items':
      return ctx.store.itemsStats();
    case 'slabs':
      return ctx.store.slabs.slabs();
    case 'sizes':
      // memcached tracks sizes only with -o track_sizes; off by default, as here.
      return [['sizes_status', 'disabled']];
    default:
      return undefined;
  }
}
