export { StoreCounters } from './counters.js';
export { MemcachedStore, StoreStatus, StoreMode, KEY_MAX_LENGTH, ITEM_OVERHEAD, type StoreOptions } from './store.js';
export { Item } from './item.js';
export { deadlineMs, isPast, NEVER, EXPIRED, REALTIME_MAXDELTA_S } from './expiry.js';
export { parseStoredU64, parseDecimalU64, applyDelta, U64_LIMIT } from './numeric.js';
export { SlabClasses, memcachedItemBytes, ITEM_HEADER_BYTES, MAX_SLAB_CLASSES } from './slab-classes.js';
export { SlabBook, SlabCounters } from './slab-stats.js';
