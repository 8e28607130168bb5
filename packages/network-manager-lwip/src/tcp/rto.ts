// Retransmission timeout estimation (RFC 6298), pure: samples and times are passed in (ns).

export interface RtoConfig {
  /** Initial RTO before any sample (RFC 6298 2.1: 1 s). */
  initialNs: number;
  /** Lower bound (RFC 6298 says 1 s; we use 200 ms like Linux/lwIP-style stacks, documented). */
  minNs: number;
  /** Upper bound (RFC 6298 2.5 allows >= 60 s). */
  maxNs: number;
  /** Clock granularity G (RFC 6298 2.2). */
  granularityNs: number;
}

export const DEFAULT_RTO: RtoConfig = Object.freeze({ initialNs: 1e9, minNs: 200e6, maxNs: 60e9, granularityNs: 1e6 });

export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  hasSample = false;
  /** Current RTO including backoff. */
  rto: number;
  /** Consecutive backoffs since the last new ACK. */
  backoffs = 0;

  constructor(readonly config: RtoConfig = DEFAULT_RTO) {
    this.rto = config.initialNs;
  }

  private clamp(v: number): number {
    const c = this.config;
    return Math.min(c.maxNs, Math.max(c.minNs, v));
  }

  /** RFC 6298 2.2/2.3: a new RTT measurement R (ns). Resets the backoff. */
  sample(r: number): void {
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.backoffs = 0;
    this.rto = this.clamp(this.srtt + Math.max(this.config.granularityNs, 4 * this.rttvar));
  }

  /** RFC 6298 5.5: the timer expired, double the RTO (bounded by max). */
  backoff(): void {
    this.backoffs++;
    this.rto = Math.min(this.config.maxNs, this.rto * 2);
  }

  /** A new ACK arrived without a usable sample (Karn): drop the backoff, keep the estimate. */
  resetBackoff(): void {
    if (this.backoffs === 0) return;
    this.backoffs = 0;
    this.rto = this.hasSample ? this.clamp(this.srtt + Math.max(this.config.granularityNs, 4 * this.rttvar)) : this.config.initialNs;
  }
}
