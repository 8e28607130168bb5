// ICMP error rate limits, after Linux: a global token bucket (icmp_msgs_per_sec, icmp_msgs_burst)
// and one per peer (icmp_ratelimit: one error per interval, up to XRLIM_BURST_FACTOR = 6 saved
// up). The per-peer table is bounded (least recently used peer forgotten first), so a flood from
// many spoofed sources costs bounded memory and is still capped by the global bucket. Time is
// passed in (ns), so the limiter is pure and the simulation deterministic.

import type { Ipv4Address } from '../wire/ipv4-address.js';

export interface IcmpRateLimitConfig {
  /** Global bucket: tokens per second, and its size. */
  ratePerSec: number;
  burst: number;
  /** Per peer: one error per this interval (µs), at most `peerBurst` saved up. */
  peerIntervalUs: number;
  peerBurst: number;
  /** Peers remembered. */
  maxPeers: number;
}

export class IcmpRateLimiter {
  private tokens: number;
  private tokensAtNs = 0;
  /** Peer → its saved-up time credit (ns) and when it was last updated; Map order = recency. */
  private readonly peers = new Map<Ipv4Address, { creditNs: number; atNs: number }>();

  constructor(private readonly config: IcmpRateLimitConfig) {
    this.tokens = config.burst;
  }

  /** True (and both buckets charged) when an error to `peer` may be sent now. */
  allow(peer: Ipv4Address, nowNs: number): boolean {
    const cfg = this.config;
    const tokens = Math.min(cfg.burst, this.tokens + ((nowNs - this.tokensAtNs) * cfg.ratePerSec) / 1e9);
    this.tokens = tokens;
    this.tokensAtNs = nowNs;
    const intervalNs = cfg.peerIntervalUs * 1000;
    const capNs = intervalNs * cfg.peerBurst;
    let p = this.peers.get(peer);
    if (p === undefined) {
      if (this.peers.size >= cfg.maxPeers) this.peers.delete(this.peers.keys().next().value!);
      p = { creditNs: capNs, atNs: nowNs }; // a new peer starts with a full burst, as in Linux
    } else {
      this.peers.delete(peer); // re-inserted below: most recent last
      p.creditNs = Math.min(capNs, p.creditNs + (nowNs - p.atNs));
      p.atNs = nowNs;
    }
    this.peers.set(peer, p);
    if (tokens < 1 || p.creditNs < intervalNs) return false;
    this.tokens = tokens - 1;
    p.creditNs -= intervalNs;
    return true;
  }

  /** Peers currently remembered (for tests). */
  get peerCount(): number {
    return this.peers.size;
  }
}
