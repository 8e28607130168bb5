/**
 * Per-request latency in an HDR histogram (hdr-histogram-js 3): nanoseconds, 3 significant
 * digits, so p99.9 of a million samples costs a few KiB and no sort.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  meanNs: number;
}

export class LatencyHistogram {
  private readonly h: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 32 });

  /** Records one latency; negative values (a clock that stepped) are recorded as 0. */
  record(ns: number): void {
    this.h.recordValue(ns > 0 ? Math.round(ns) : 0);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** The value at percentile `p` (0..100); NaN when empty. */
  percentile(p: number): number {
    return this.h.totalCount === 0 ? Number.NaN : this.h.getValueAtPercentile(p);
  }

  summary(): LatencySummary {
    const empty = this.h.totalCount === 0;
    return {
      count: this.h.totalCount,
      p50Ns: this.percentile(50),
      p90Ns: this.percentile(90),
      p99Ns: this.percentile(99),
      p999Ns: this.percentile(99.9),
      maxNs: empty ? Number.NaN : this.h.maxValue,
      meanNs: empty ? Number.NaN : this.h.mean,
    };
  }

  reset(): void {
    this.h.reset();
  }
}
