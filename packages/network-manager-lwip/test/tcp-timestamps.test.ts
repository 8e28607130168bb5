/**
 * Timestamps (RFC 7323): negotiation, the option on every segment, and RTT samples for
 * retransmitted data (where Karn's rule leaves none). Simulation-free harness.
 */
import { IOBuf, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { Harness, payloadLen, type Seg } from './tcp-harness.js';

function hasTs(b: Uint8Array): boolean {
  const hl = (b[12]! >> 4) * 4;
  for (let i = 20; i < hl; ) {
    if (b[i] === 0) break;
    if (b[i] === 1) {
      i++;
      continue;
    }
    if (b[i] === 8) return true;
    i += b[i + 1]!;
  }
  return false;
}

function run(timestamps: boolean) {
  const w = new Harness({ timestamps });
  w.latencyNs = 5e6; // 10 ms RTT: millisecond ticks mean something
  const got: number[] = [];
  w.b.listen(80, (): TcpHandler => ({ receive: (_c, d) => (got.push(...d.toUint8Array()), d.releaseChain()) }), 0);
  const c = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain() }, 0);
  w.run(100e6);
  const segs: Seg[] = [];
  let dropped = 0;
  w.tap = (s) => {
    segs.push(s);
    // Lose the first data segment and its first retransmission: recovery by RTO only.
    if (s.from === w.addrA && payloadLen(s.bytes) > 0 && dropped < 2) {
      dropped++;
      return false;
    }
    return true;
  };
  c.send(IOBuf.copyOf(new Uint8Array(1000).fill(7)));
  w.run(w.now + 10e9);
  expect(got.length).toBe(1000);
  const pcb = [...w.a.pcbs.values()][0]!;
  return { w, pcb, segs };
}

describe('timestamps (RFC 7323)', () => {
  it('negotiated: every segment carries the option and the MSS leaves room for it (1448)', () => {
    const { pcb, segs } = run(true);
    expect(pcb.tsOk).toBe(true);
    expect(pcb.mss).toBe(1448);
    expect(segs.length).toBeGreaterThan(0);
    expect(segs.every((s) => hasTs(s.bytes))).toBe(true);
  });

  it('after RTO retransmissions the echoed timestamp gives an RTT sample; without timestamps Karn gives none', () => {
    const ts = run(true);
    expect(ts.w.a.stats.timeouts).toBe(0);
    expect(ts.w.a.stats.retransmits).toBe(2);
    expect(ts.w.a.stats.tsRttSamples).toBe(1);
    // The handshake sampled 10 ms; the retransmission's sample is one RTT plus the peer's
    // delayed ACK (50 ms), not the 0.6 s since the first send: SRTT stays near the path's.
    expect(ts.pcb.rto.srtt / 1e6).toBeGreaterThan(9);
    expect(ts.pcb.rto.srtt / 1e6).toBeLessThan(20);
    expect(ts.pcb.rto.backoffs).toBe(0);
    const plain = run(false);
    expect(plain.pcb.tsOk).toBe(false);
    expect(plain.w.a.stats.tsRttSamples).toBe(0);
    expect(plain.segs.some((s) => hasTs(s.bytes))).toBe(false);
  });
});
