/**
 * Finding the highest offered rate a server holds within a latency SLA: a bisection on a log
 * scale between a rate known (or assumed) to pass and one known to fail. Measurements are noisy,
 * so the answer is the highest rate *seen* passing, with every probe kept for the plot.
 */

export interface Probe {
  rate: number;
  p99Ns: number;
  /** Whether the probe met the SLA (p99 under it, nothing unanswered, no errors). */
  ok: boolean;
}

export interface SearchOptions {
  /** Lowest rate to try (it is probed; if it fails the answer is 0). */
  lo: number;
  /** A rate at or above the peak; never probed itself (every probe passing puts the answer just under it). */
  hi: number;
  /** Probes after the first (default 6: hi/lo resolved to (hi/lo)^(1/64)). */
  steps?: number;
}

export interface SearchResult {
  /** Highest passing rate probed; 0 if even `lo` failed. */
  bestRate: number;
  probes: Probe[];
}

/**
 * `measure(rate)` runs one probe. Probes: lo, then the geometric midpoint of the bracket each
 * step. If lo fails, stops.
 */
export async function searchMaxRate(measure: (rate: number) => Promise<Probe>, o: SearchOptions): Promise<SearchResult> {
  if (!(o.lo > 0 && o.hi > o.lo)) throw new RangeError(`rate search needs 0 < lo < hi, got lo=${o.lo} hi=${o.hi}`);
  const steps = o.steps ?? 6;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`rate search steps must be a non-negative integer, got ${steps}`);
  const probes: Probe[] = [];
  const first = await measure(o.lo);
  probes.push(first);
  if (!first.ok) return { bestRate: 0, probes };
  let pass = o.lo;
  let fail = o.hi;
  let best = o.lo;
  for (let s = 0; s < steps; s++) {
    const mid = Math.sqrt(pass * fail);
    const p = await measure(mid);
    probes.push(p);
    if (p.ok) {
      pass = mid;
      best = Math.max(best, mid);
    } else fail = mid;
  }
  return { bestRate: best, probes };
}
