// Tail loss probe (tailLossProbe, RFC 8985 7): a burst whose last segments are lost has no
// segment after it to provoke duplicate ACKs, so without the probe it waits for the RTO (200 ms
// minimum); with it, the probe's SACK marks the holes lost and SACK recovery repairs them.
import fc from 'fast-check';
import { IOBuf } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { Harness, payloadLen } from './tcp-harness.js';

const MSS = 1460;

/** Sends `segments` MSS of data after the handshake, dropping the data segments whose index `drop` names (first sends only). */
function tailLoss(tlp: boolean, segments: number, drop: (i: number) => boolean): { w: Harness; got: number; doneAtNs: number; sent: Uint8Array } {
  const w = new Harness({ mss: MSS, tailLossProbe: tlp });
  let got = 0;
  let doneAtNs = -1;
  const sent = new Uint8Array(segments * MSS).map((_, i) => (i * 31 + 3) & 0xff);
  const recv: number[] = [];
  w.b.listen(80, () => ({ receive: (_c, d) => { recv.push(...d.toUint8Array()); got += d.computeChainDataLength(); d.releaseChain(); if (got === sent.length) doneAtNs = w.now; } }), 0);
  const client = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain() }, 0);
  w.run(w.now + 1e6);
  let dataIndex = 0;
  const seen = new Set<number>();
  w.tap = (s) => {
    if (s.from !== w.addrA || payloadLen(s.bytes) === 0) return true;
    const seq = new DataView(s.bytes.buffer, s.bytes.byteOffset).getUint32(4);
    if (seen.has(seq)) return true; // retransmissions pass
    seen.add(seq);
    return !drop(dataIndex++);
  };
  client.sendQueued(IOBuf.copyOf(sent));
  w.run(w.now + 5e9);
  expect(Buffer.from(recv).equals(Buffer.from(sent))).toBe(true);
  return { w, got, doneAtNs, sent };
}

describe('tail loss probe (RFC 8985 7)', () => {
  it('a lost tail of 3 segments is repaired by the probe and SACK recovery, without the 200 ms RTO; off, the RTO fires', () => {
    const on = tailLoss(true, 12, (i) => i >= 9);
    expect(on.w.a.stats.tailLossProbes).toBeGreaterThanOrEqual(1);
    expect(on.w.a.stats.rtoExpirations).toBe(0);
    expect(on.w.a.stats.sackRecoveries).toBe(1);
    const off = tailLoss(false, 12, (i) => i >= 9);
    expect(off.w.a.stats.tailLossProbes).toBe(0);
    expect(off.w.a.stats.rtoExpirations).toBeGreaterThan(0);
    // Both end 1 ms after connect + loss; the probe's repair comes well before the RTO's.
    expect(on.doneAtNs).toBeLessThan(off.doneAtNs - 100e6);
  });

  it('any loss pattern in a burst is repaired byte-exact; a probe never makes recovery slower than the RTO', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), (n, mask) => {
        const on = tailLoss(true, n, (i) => mask[i] === true);
        const off = tailLoss(false, n, (i) => mask[i] === true);
        expect(on.doneAtNs).toBeGreaterThan(0);
        expect(on.doneAtNs).toBeLessThanOrEqual(off.doneAtNs);
      }),
      {
        numRuns: 200,
        // Found by this property: a probe that repaired nothing once pushed the RTO later (RFC 8985
        // re-arms it after a probe); the RTO now keeps its deadline.
        examples: [[10, [false, false, false, false, false, true, true, true, false, true, false, false, false, false, false, false, false, false, false, false]]],
      },
    );
  });

  it('no loss: no probe is sent (the ACKs come in time)', () => {
    const on = tailLoss(true, 12, () => false);
    expect(on.w.a.stats.tailLossProbes).toBe(0);
    expect(on.w.a.stats.retransmits).toBe(0);
  });
});
