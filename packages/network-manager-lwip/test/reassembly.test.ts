import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitIpv4, Ipv4Packet, Ipv4Reassembler, type ReassemblyResult } from '../src/index.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;

/** Builds a real IPv4 fragment carrying payload[offset, offset+len) and parses it. */
function fragment(payload: Uint8Array, offset: number, len: number, more: boolean, id = 7, proto = 17, src = SRC): Ipv4Packet {
  const b = new Uint8Array(20 + len);
  emitIpv4(
    { src, dst: DST, protocol: proto, ttl: 64, payloadLength: len, identification: id, dontFragment: false, moreFragments: more, fragmentOffset: offset, dscp: 0, ecn: 0, options: new Uint8Array(0) },
    b,
    0,
  );
  b.set(payload.subarray(offset, offset + len), 20);
  const p = Ipv4Packet.parse(b);
  if (!p.ok) throw new Error(p.reason);
  return p;
}

/** Cuts [0, n) at the given 8-aligned points. */
function cuts(n: number, points: number[]): [number, number][] {
  const set = [...new Set(points.map((p) => p * 8).filter((p) => p > 0 && p < n))].sort((a, b) => a - b);
  const edges = [0, ...set, n];
  return edges.slice(1).map((e, i) => [edges[i], e - edges[i]]);
}

const kind = (r: ReassemblyResult) => (r.kind === 'rejected' ? r.reason : r.kind);

describe('Ipv4Reassembler (RFC 791 3.2)', () => {
  it('random fragmentations, any order, with duplicates, reassemble exactly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.array(fc.nat(500), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 100 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payload, points, order, dups) => {
          const frags = cuts(payload.length, points);
          // delivery list: every fragment once, plus some duplicates, in a random order
          const deliveries = frags.map((_, i) => i);
          for (const d of dups) deliveries.push(d % frags.length);
          const keyed = deliveries.map((f, i) => ({ f, k: order[i] ?? i }));
          keyed.sort((a, b) => a.k - b.k);
          const r = new Ipv4Reassembler({ timeout: 15_000, maxFragmentsPerDatagram: 128 });
          const seen = new Set<number>();
          let done: Uint8Array | null = null;
          for (const { f } of keyed) {
            // A copy arriving after completion would start a fresh datagram (which then times
            // out); that is correct, but this property is about the first reassembly.
            if (done) break;
            const [off, len] = frags[f];
            const res = r.accept(fragment(payload, off, len, off + len < payload.length), 100);
            if (frags.length === 1) {
              expect(res.kind).toBe('complete');
            } else if (seen.has(f)) {
              expect(kind(res)).toBe('duplicate');
            } else {
              seen.add(f);
              expect(kind(res)).toBe(seen.size === frags.length ? 'complete' : 'pending');
            }
            if (res.kind === 'complete') {
              done = res.payload;
              expect([res.src, res.dst, res.protocol, res.identification]).toEqual([SRC, DST, 17, 7]);
            }
          }
          expect(done && Buffer.from(done).equals(Buffer.from(payload))).toBe(true);
          expect(r.pendingDatagrams).toBe(0);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps datagrams apart by (src, dst, id, protocol)', () => {
    const a = new Uint8Array(16).fill(0xaa);
    const b = new Uint8Array(16).fill(0xbb);
    const r = new Ipv4Reassembler({ timeout: 10 });
    expect(kind(r.accept(fragment(a, 0, 8, true, 1, 17), 0))).toBe('pending');
    expect(kind(r.accept(fragment(b, 0, 8, true, 1, 6), 0))).toBe('pending');
    expect(kind(r.accept(fragment(b, 0, 8, true, 1, 17, 0x0a000009), 0))).toBe('pending');
    const done = r.accept(fragment(b, 8, 8, false, 1, 6), 0);
    expect(done.kind === 'complete' && [...done.payload]).toEqual([...b]);
    expect(r.pendingDatagrams).toBe(2);
  });

  it('rejects overlaps (and drops the datagram), inconsistent lengths and bad fragment sizes', () => {
    const p = new Uint8Array(64).map((_, i) => i);
    const r = new Ipv4Reassembler({ timeout: 10 });
    expect(kind(r.accept(fragment(p, 0, 24, true), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 16, 16, true), 0))).toBe('overlap');
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);

    // same offset and length but different bytes is an overlap too, not a duplicate
    expect(kind(r.accept(fragment(p, 0, 8, true), 0))).toBe('pending');
    const q = p.slice();
    q[3] ^= 1;
    expect(kind(r.accept(fragment(q, 0, 8, true), 0))).toBe('overlap');

    // a following fragment that starts inside an earlier one's successor
    expect(kind(r.accept(fragment(p, 16, 16, true), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 8, 16, true), 0))).toBe('overlap');

    expect(kind(r.accept(fragment(p, 0, 12, true), 0))).toBe('bad-fragment-length');
    expect(kind(r.accept(fragment(p, 0, 0, true), 0))).toBe('bad-fragment-length');

    expect(kind(r.accept(fragment(p, 0, 16, true), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 32, 8, false), 0))).toBe('pending'); // total = 40
    expect(kind(r.accept(fragment(p, 40, 8, true), 0))).toBe('inconsistent-length');
    expect(kind(r.accept(fragment(p, 16, 16, true), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 8, 8, false), 0))).toBe('inconsistent-length'); // second "last"
  });

  it('rejects fragments beyond the maximum datagram size', () => {
    const big = new Uint8Array(65528 + 8);
    const r = new Ipv4Reassembler({ timeout: 10 });
    expect(kind(r.accept(fragment(big, 65528, 8, false), 0))).toBe('too-large'); // 65536 > 65515
    const small = new Ipv4Reassembler({ timeout: 10, maxDatagramSize: 1000 });
    expect(kind(small.accept(fragment(big, 1000, 8, false), 0))).toBe('too-large');
    expect(kind(small.accept(fragment(big, 992, 8, false), 0))).toBe('pending');
  });

  it('times out: late fragments are rejected, expire() releases and counts', () => {
    const p = new Uint8Array(32);
    const r = new Ipv4Reassembler({ timeout: 1000 });
    expect(kind(r.accept(fragment(p, 0, 8, true, 1), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 8, 8, true, 1), 999))).toBe('pending');
    expect(kind(r.accept(fragment(p, 16, 16, false, 1), 1000))).toBe('timeout');
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    r.accept(fragment(p, 0, 8, true, 2), 2000);
    r.accept(fragment(p, 0, 8, true, 3), 2500);
    expect(r.expire(2999)).toBe(0);
    expect(r.expire(3000)).toBe(1);
    expect(r.pendingDatagrams).toBe(1);
    expect(r.expire(3500)).toBe(1);
    expect(r.bufferedBytes).toBe(0);
  });

  it('enforces limits on datagrams, fragments and bytes', () => {
    const p = new Uint8Array(4096);
    const r = new Ipv4Reassembler({ timeout: 10, maxDatagrams: 2, maxFragmentsPerDatagram: 3, maxBufferedBytes: 64 });
    expect(kind(r.accept(fragment(p, 0, 8, true, 1), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 0, 8, true, 2), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 0, 8, true, 3), 0))).toBe('too-many-datagrams');
    expect(r.pendingDatagrams).toBe(2);
    expect(kind(r.accept(fragment(p, 8, 8, true, 1), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 16, 8, true, 1), 0))).toBe('pending');
    expect(kind(r.accept(fragment(p, 24, 8, true, 1), 0))).toBe('too-many-fragments');
    expect(r.pendingDatagrams).toBe(1); // the datagram that hit the cap is dropped whole
    expect(r.bufferedBytes).toBe(8);
    expect(kind(r.accept(fragment(p, 8, 64, true, 2), 0))).toBe('buffer-full');
    expect(kind(r.accept(fragment(p, 8, 56, true, 2), 0))).toBe('pending');
    expect(r.bufferedBytes).toBe(64);
    expect(kind(r.accept(fragment(p, 0, 8, true, 9), 0))).toBe('buffer-full');
    expect(r.pendingDatagrams).toBe(1); // the refused new datagram left no entry behind
    expect(() => new Ipv4Reassembler({ timeout: 0 })).toThrow(/timeout/);
    expect(() => new Ipv4Reassembler({ timeout: 1, maxDatagrams: -1 })).toThrow(/maxDatagrams/);
  });

  it('never exceeds its limits under random hostile fragments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.nat(5), off: fc.nat(200), len: fc.nat(30), more: fc.boolean(), t: fc.nat(50) }), { maxLength: 200 }),
        (ops) => {
          const p = new Uint8Array(2000).map((_, i) => i * 7);
          const r = new Ipv4Reassembler({ timeout: 100, maxDatagrams: 3, maxFragmentsPerDatagram: 5, maxBufferedBytes: 300 });
          let now = 0;
          for (const op of ops) {
            now += op.t;
            const res = r.accept(fragment(p, op.off * 8, op.more ? op.len * 8 : op.len, op.more, op.id), now);
            if (res.kind === 'complete') for (let i = 0; i < res.payload.length; i++) expect(res.payload[i]).toBe(p[i]);
            expect(r.pendingDatagrams).toBeLessThanOrEqual(3);
            expect(r.bufferedBytes).toBeLessThanOrEqual(300);
            expect(r.bufferedBytes).toBeGreaterThanOrEqual(0);
          }
          r.expire(now + 100);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('bounds each source: its own oldest datagram is evicted, other sources keep their entries', () => {
    const p = new Uint8Array(4096);
    const r = new Ipv4Reassembler({ timeout: 1000, maxDatagrams: 8, maxDatagramsPerSource: 2 });
    const OTHER = 0x0a000009;
    expect(kind(r.accept(fragment(p, 0, 8, true, 1, 17, OTHER), 0))).toBe('pending');
    for (let id = 10; id < 20; id++) expect(kind(r.accept(fragment(p, 0, 8, true, id), 0))).toBe('pending');
    expect(r.pendingDatagrams).toBe(3); // two of SRC's (the newest), one of OTHER's
    expect(r.evicted).toBe(8);
    // SRC's newest (id 19) still completes; OTHER's is untouched.
    expect(kind(r.accept(fragment(p, 8, 8, false, 19), 1))).toBe('complete');
    expect(kind(r.accept(fragment(p, 8, 8, false, 1, 17, OTHER), 1))).toBe('complete');
    // Bytes per source: SRC may hold 64 bytes; a new 48-byte fragment evicts its older datagram.
    const b = new Ipv4Reassembler({ timeout: 1000, maxBufferedBytesPerSource: 64 });
    expect(kind(b.accept(fragment(p, 0, 48, true, 1), 0))).toBe('pending');
    expect(kind(b.accept(fragment(p, 0, 48, true, 2), 0))).toBe('pending');
    expect(b.pendingDatagrams).toBe(1);
    expect(b.bufferedBytes).toBe(48);
    // One datagram alone larger than the source's share is refused.
    expect(kind(b.accept(fragment(p, 48, 24, true, 2), 0))).toBe('source-buffer-full');
    expect(b.bufferedBytes).toBe(48);
  });

  it('a full table discards timed-out datagrams before refusing, and reports its next deadline', () => {
    const p = new Uint8Array(64);
    const r = new Ipv4Reassembler({ timeout: 100, maxDatagrams: 2, maxDatagramsPerSource: 1 });
    expect(r.nextDeadline).toBeUndefined();
    r.accept(fragment(p, 0, 8, true, 1, 17, 1), 0);
    r.accept(fragment(p, 0, 8, true, 2, 17, 2), 50);
    expect(r.nextDeadline).toBe(100);
    expect(kind(r.accept(fragment(p, 0, 8, true, 3, 17, 3), 99))).toBe('too-many-datagrams');
    expect(kind(r.accept(fragment(p, 0, 8, true, 3, 17, 3), 100))).toBe('pending'); // the first expired
    expect(r.timedOut).toBe(1);
    expect(r.nextDeadline).toBe(150);
  });

  it('never exceeds its per-source limits under random hostile fragments from a few sources', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ src: fc.nat(3), id: fc.nat(9), off: fc.nat(100), len: fc.integer({ min: 1, max: 30 }), more: fc.boolean(), t: fc.nat(20) }), { maxLength: 300 }),
        (ops) => {
          const p = new Uint8Array(2000);
          const r = new Ipv4Reassembler({ timeout: 100, maxDatagrams: 8, maxDatagramsPerSource: 3, maxBufferedBytes: 1000, maxBufferedBytesPerSource: 400 });
          let now = 0;
          for (const op of ops) {
            now += op.t;
            const src = 0x0a000010 + op.src;
            r.accept(fragment(p, op.off * 8, op.more ? op.len * 8 : op.len, op.more, op.id, 17, src), now);
            expect(r.pendingDatagrams).toBeLessThanOrEqual(8);
            expect(r.bufferedBytes).toBeLessThanOrEqual(1000);
            for (let s = 0; s < 4; s++) {
              expect(r.pendingFrom(0x0a000010 + s)).toBeLessThanOrEqual(3);
              expect(r.bufferedFrom(0x0a000010 + s)).toBeLessThanOrEqual(400);
            }
          }
          r.expire(now + 100);
          expect(r.pendingDatagrams).toBe(0);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
    );
  });
});
