/**
 * `@ebbrt/bench-kit/loadgen`: an open-loop memcached binary-protocol load generator (see README).
 */
export { LoadEngine, type EngineOptions, type LoadConnection, type LoadMode, type LoadResult } from './engine.js';
export { LatencyHistogram, type LatencySummary } from './histogram.js';
export {
  encodeRequest,
  FramingError,
  getRequestBytes,
  HEADER_BYTES,
  OP_GET,
  OP_SET,
  ResponseParser,
  setOpaque,
  setRequestBytes,
  STATUS_KEY_NOT_FOUND,
  type ResponseHandler,
} from './memcache-binary.js';
export { OpenLoopSchedule, type Arrivals, type ScheduleOptions } from './pacing.js';
export { Xorshift32 } from './prng.js';
export { searchMaxRate, type Probe, type SearchOptions, type SearchResult } from './rate-search.js';
export { SpinRation, type PaceDecision, type SpinRationOptions } from './spin-ration.js';
export { runTcpLoad, type TcpLoadOptions, type TcpLoadResult } from './tcp-client.js';
export { keyOf, resolveWorkload, Workload, type ResolvedWorkload, type WorkloadOptions } from './workload.js';
