// IPv4 fragment reassembly (RFC 791 section 3.2, "reassembly procedure"; RFC 815 hole
// accounting). Datagrams are keyed by (source, destination, identification, protocol), as
// RFC 791 prescribes.
//
// Policy choices, and why:
// - Time is passed in (`now`, in the caller's clock units): no timers or clocks in a wire
//   module, so simulations stay deterministic. A datagram is discarded `timeout` after its
//   first fragment arrived (RFC 791's timer; RFC 1122 3.3.2 suggests 60-120 s, lwIP uses 15 s).
// - Overlapping fragments that are not exact duplicates discard the whole datagram (the
//   RFC 5722 policy, adopted for IPv4 by Linux for overlaps and by lwIP): overlaps are how
//   teardrop-style and IDS-evasion attacks work, and no sane sender produces them.
// - Exact duplicates (same offset, length and bytes; common with retransmitting links) are
//   dropped without harming the datagram.
// - Hard limits: concurrent datagrams, fragments per datagram, bytes buffered overall, and
//   maximum datagram size. A fragment that would exceed one is rejected with its reason; the
//   table never grows without bound. When the table is full, timed-out datagrams are discarded
//   first; if it is still full, new datagrams are refused rather than evicting live ones (lwIP
//   evicts the oldest): refusing is simpler to reason about.
// - Per-source limits (datagrams and bytes) below the totals: one source whose trains never
//   complete (an attacker, or a broken sender) only competes with itself. When a source is at
//   its limit, its own oldest datagram is evicted for the new one, so a host that once sent
//   garbage is not locked out, and other sources keep the rest of the table.
//
// The receive path calls `accept` only for fragments (`Ipv4Packet.isFragment`), and calls
// `expire(now)` from a timer at `nextDeadline` to release timed-out datagrams.

import type { Ipv4Packet } from './ipv4.js';
import type { Ipv4Address } from './ipv4-address.js';

export type ReassemblyRejectReason =
  | 'timeout'
  | 'overlap'
  | 'duplicate'
  | 'inconsistent-length'
  | 'bad-fragment-length'
  | 'too-large'
  | 'too-many-fragments'
  | 'too-many-datagrams'
  | 'buffer-full'
  | 'source-buffer-full';

export interface ReassemblyComplete {
  readonly kind: 'complete';
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly identification: number;
  /** The reassembled IPv4 payload (a fresh copy, owned by the caller). */
  readonly payload: Uint8Array;
}
export interface ReassemblyPending {
  readonly kind: 'pending';
}
export interface ReassemblyRejected {
  readonly kind: 'rejected';
  readonly reason: ReassemblyRejectReason;
}
export type ReassemblyResult = ReassemblyComplete | ReassemblyPending | ReassemblyRejected;

const PENDING: ReassemblyPending = Object.freeze({ kind: 'pending' });
const rejected = (reason: ReassemblyRejectReason): ReassemblyRejected => Object.freeze({ kind: 'rejected', reason });
const R: Record<ReassemblyRejectReason, ReassemblyRejected> = Object.freeze({
  timeout: rejected('timeout'),
  overlap: rejected('overlap'),
  duplicate: rejected('duplicate'),
  'inconsistent-length': rejected('inconsistent-length'),
  'bad-fragment-length': rejected('bad-fragment-length'),
  'too-large': rejected('too-large'),
  'too-many-fragments': rejected('too-many-fragments'),
  'too-many-datagrams': rejected('too-many-datagrams'),
  'buffer-full': rejected('buffer-full'),
  'source-buffer-full': rejected('source-buffer-full'),
});

export interface Ipv4ReassemblerOptions {
  /** How long a datagram may take to complete, in the units of `now`. Required: no default clock. */
  timeout: number;
  /** Datagrams under reassembly at once. Default 16. */
  maxDatagrams?: number;
  /** Fragments held per datagram. Default 64. */
  maxFragmentsPerDatagram?: number;
  /** Payload bytes held across all datagrams. Default 256 KiB. */
  maxBufferedBytes?: number;
  /** Largest reassembled payload. Default 65515 (65535 minus a minimal 20-byte header). */
  maxDatagramSize?: number;
  /** Datagrams under reassembly from one source address. Default min(4, maxDatagrams). */
  maxDatagramsPerSource?: number;
  /** Payload bytes held for one source address. Default min(128 KiB, maxBufferedBytes). */
  maxBufferedBytesPerSource?: number;
}

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Entry {
  src: number;
  dst: number;
  id: number;
  protocol: number;
  deadline: number;
  /** Sorted by offset, non-overlapping. */
  fragments: Fragment[];
  bytes: number;
  /** Payload length, known once the last fragment (MF = 0) arrived; -1 until then. */
  total: number;
}

export class Ipv4Reassembler {
  readonly timeout: number;
  readonly maxDatagrams: number;
  readonly maxFragmentsPerDatagram: number;
  readonly maxBufferedBytes: number;
  readonly maxDatagramSize: number;
  readonly maxDatagramsPerSource: number;
  readonly maxBufferedBytesPerSource: number;
  /** In arrival order of their first fragment: the oldest first. */
  private readonly entries: Entry[] = [];
  private buffered = 0;
  /** Datagrams discarded because their time was up (by `expire` or lazily in `accept`). */
  timedOut = 0;
  /** Datagrams evicted to make room for a newer one from the same source. */
  evicted = 0;

  constructor(options: Ipv4ReassemblerOptions) {
    const pos = (name: string, v: number | undefined, dflt: number): number => {
      const x = v ?? dflt;
      if (!(typeof x === 'number' && x > 0 && Number.isFinite(x))) throw new RangeError(`invalid ${name} (${String(v)}): must be a positive number`);
      return x;
    };
    this.timeout = pos('timeout', options.timeout, NaN);
    this.maxDatagrams = pos('maxDatagrams', options.maxDatagrams, 16);
    this.maxFragmentsPerDatagram = pos('maxFragmentsPerDatagram', options.maxFragmentsPerDatagram, 64);
    this.maxBufferedBytes = pos('maxBufferedBytes', options.maxBufferedBytes, 256 * 1024);
    this.maxDatagramSize = Math.min(pos('maxDatagramSize', options.maxDatagramSize, 65515), 65515);
    this.maxDatagramsPerSource = Math.min(pos('maxDatagramsPerSource', options.maxDatagramsPerSource, 4), this.maxDatagrams);
    this.maxBufferedBytesPerSource = Math.min(pos('maxBufferedBytesPerSource', options.maxBufferedBytesPerSource, 128 * 1024), this.maxBufferedBytes);
  }

  /** The earliest deadline of a pending datagram (in the units of `now`), or undefined when none is pending. */
  get nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const e of this.entries) if (d === undefined || e.deadline < d) d = e.deadline;
    return d;
  }

  /** Datagrams currently under reassembly. */
  get pendingDatagrams(): number {
    return this.entries.length;
  }
  /** Payload bytes currently buffered. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Offers one parsed (checksum-verified) fragment. The fragment's payload is copied, so the
   * receive buffer may be reused at once. Returns the whole payload when this fragment
   * completes its datagram, `pending` when more are needed, or the reason it was rejected.
   */
  accept(packet: Ipv4Packet, now: number): ReassemblyResult {
    return this.acceptFragment(
      packet.src,
      packet.dst,
      packet.identification,
      packet.protocol,
      packet.fragmentOffset,
      packet.moreFragments,
      packet.bytes,
      packet.payloadOffset,
      packet.payloadLength,
      now,
    );
  }

  /** `accept` with the header fields spelled out (for callers without a view). */
  acceptFragment(
    src: Ipv4Address,
    dst: Ipv4Address,
    id: number,
    protocol: number,
    fragOffset: number,
    more: boolean,
    bytes: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    now: number,
  ): ReassemblyResult {
    const end = fragOffset + payloadLength;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes, and a non-last
    // fragment carries data.
    if (more && (payloadLength === 0 || payloadLength % 8 !== 0)) return R['bad-fragment-length'];
    if (end > this.maxDatagramSize) return R['too-large'];

    let idx = this.find(src, dst, id, protocol);
    let e: Entry;
    if (idx >= 0) {
      e = this.entries[idx];
      if (now >= e.deadline) {
        this.remove(idx);
        this.timedOut++;
        return R.timeout;
      }
    } else {
      if (!more && fragOffset === 0) {
        // Not a fragment at all: nothing to reassemble.
        return { kind: 'complete', src, dst, protocol, identification: id, payload: bytes.slice(payloadOffset, payloadOffset + payloadLength) };
      }
      if (this.entries.length >= this.maxDatagrams) this.expire(now);
      // A source at its own limit makes room from its own datagrams; other sources are refused
      // while the table is full (unless the per-source limit is the whole table).
      const atSourceLimit = this.sourceCount(src) >= this.maxDatagramsPerSource;
      if (this.entries.length >= this.maxDatagrams && !(atSourceLimit && this.maxDatagramsPerSource < this.maxDatagrams)) return R['too-many-datagrams'];
      if (atSourceLimit) this.evictOldestOf(src, -1);
      e = { src, dst, id, protocol, deadline: now + this.timeout, fragments: [], bytes: 0, total: -1 };
      this.entries.push(e);
      idx = this.entries.length - 1;
    }

    // Consistency with the known total length (RFC 791: the last fragment fixes it).
    if (!more) {
      if ((e.total >= 0 && e.total !== end) || (e.fragments.length > 0 && e.fragments[e.fragments.length - 1].offset + e.fragments[e.fragments.length - 1].data.length > end)) {
        this.remove(idx);
        return R['inconsistent-length'];
      }
    } else if (e.total >= 0 && end > e.total) {
      this.remove(idx);
      return R['inconsistent-length'];
    }

    // Find the insertion point (fragments sorted by offset) and check neighbours for overlap.
    const frags = e.fragments;
    let pos = 0;
    while (pos < frags.length && frags[pos].offset < fragOffset) pos++;
    const same = pos < frags.length ? frags[pos] : undefined;
    if (same && same.offset === fragOffset && same.data.length === payloadLength) {
      if (sameBytes(same.data, bytes, payloadOffset)) {
        if (!more) e.total = end;
        return R.duplicate;
      }
      this.remove(idx);
      return R.overlap;
    }
    const prev = pos > 0 ? frags[pos - 1] : undefined;
    if ((prev && prev.offset + prev.data.length > fragOffset) || (same && same.offset < end)) {
      this.remove(idx);
      return R.overlap;
    }

    if (frags.length >= this.maxFragmentsPerDatagram) {
      this.remove(idx);
      return R['too-many-fragments'];
    }
    if (this.buffered + payloadLength > this.maxBufferedBytes) {
      this.expire(now);
      idx = this.entries.indexOf(e);
    }
    if (this.buffered + payloadLength > this.maxBufferedBytes) {
      if (frags.length === 0) this.remove(idx);
      return R['buffer-full'];
    }
    // The source's own older datagrams make room before this one is refused.
    while (this.sourceBytes(src) + payloadLength > this.maxBufferedBytesPerSource && this.evictOldestOf(src, idx)) idx = this.entries.indexOf(e);
    if (this.sourceBytes(src) + payloadLength > this.maxBufferedBytesPerSource) {
      if (frags.length === 0) this.remove(idx);
      return R['source-buffer-full'];
    }

    frags.splice(pos, 0, { offset: fragOffset, data: bytes.slice(payloadOffset, payloadOffset + payloadLength) });
    e.bytes += payloadLength;
    this.buffered += payloadLength;
    if (!more) e.total = end;

    // Non-overlapping fragments covering [0, total) exactly sum to total.
    if (e.total >= 0 && e.bytes === e.total) {
      const payload = new Uint8Array(e.total);
      for (const f of frags) payload.set(f.data, f.offset);
      this.remove(idx);
      return { kind: 'complete', src, dst, protocol, identification: id, payload };
    }
    return PENDING;
  }

  /** Discards datagrams whose time is up; returns how many (also added to `timedOut`). */
  expire(now: number): number {
    let n = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (now >= this.entries[i].deadline) {
        this.remove(i);
        n++;
      }
    }
    this.timedOut += n;
    return n;
  }

  /** Datagrams under reassembly from `src`. */
  pendingFrom(src: Ipv4Address): number {
    return this.sourceCount(src);
  }
  /** Payload bytes buffered for `src`. */
  bufferedFrom(src: Ipv4Address): number {
    return this.sourceBytes(src);
  }

  private sourceCount(src: number): number {
    let n = 0;
    for (const e of this.entries) if (e.src === src) n++;
    return n;
  }

  private sourceBytes(src: number): number {
    let n = 0;
    for (const e of this.entries) if (e.src === src) n += e.bytes;
    return n;
  }

  /** Evicts the oldest datagram of `src` other than entry `keep`; false when there is none. */
  private evictOldestOf(src: number, keep: number): boolean {
    const es = this.entries;
    for (let i = 0; i < es.length; i++) {
      if (i !== keep && es[i].src === src) {
        this.remove(i);
        this.evicted++;
        return true;
      }
    }
    return false;
  }

  private find(src: number, dst: number, id: number, protocol: number): number {
    const es = this.entries;
    for (let i = 0; i < es.length; i++) {
      const e = es[i];
      if (e.id === id && e.src === src && e.dst === dst && e.protocol === protocol) return i;
    }
    return -1;
  }

  private remove(idx: number): void {
    this.buffered -= this.entries[idx].bytes;
    this.entries.splice(idx, 1);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[off + i]) return false;
  return true;
}
