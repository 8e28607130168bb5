/**
 * Puts a remote node's simulation clock on this process's: a node in its own process (or Slurm
 * job) runs its own simulation, whose clock started when that process did. Every introspect
 * answer is one sample: this clock when the ask went out (`sentNs`) and when the answer came back
 * (`gotNs`), and the node's clock when it answered (`remoteNs`). The node answered in between, so
 * the offset (local - remote) lies in [sentNs - remoteNs, gotNs - remoteNs]. The samples'
 * intervals are intersected (at least as tight as NTP's least-delayed sample) and the estimate is
 * the midpoint, off by at most half the width.
 *
 * An empty intersection means the node's clock jumped (its process restarted under the same id)
 * or drifted out of the bounds: the estimate starts over from that sample.
 */
export class ClockOffset {
  private lo = -Infinity;
  private hi = Infinity;

  /** One answer's timing. A sample whose answer came back before it went out is refused. */
  sample(sentNs: number, gotNs: number, remoteNs: number): void {
    if (!(Number.isFinite(sentNs) && Number.isFinite(gotNs) && Number.isFinite(remoteNs)) || gotNs < sentNs) {
      throw new RangeError(`clock sample: need finite times with sent <= got, got sent ${sentNs}, got ${gotNs}, remote ${remoteNs}`);
    }
    const lo = sentNs - remoteNs;
    const hi = gotNs - remoteNs;
    if (lo > this.hi || hi < this.lo) {
      this.lo = lo;
      this.hi = hi;
      return;
    }
    this.lo = Math.max(this.lo, lo);
    this.hi = Math.min(this.hi, hi);
  }

  /** Add this to a remote time to get this clock's; undefined before the first sample. */
  get offsetNs(): number | undefined {
    return this.lo === -Infinity ? undefined : Math.round((this.lo + this.hi) / 2);
  }

  /** How far the estimate can be off (half the interval's width); Infinity before the first sample. */
  get errorNs(): number {
    return (this.hi - this.lo) / 2;
  }
}
