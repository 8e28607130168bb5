/**
 * SACK (RFC 2018) and SACK-based loss recovery (RFC 6675), on the simulation-free harness.
 */
import { IOBuf, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { Harness, payloadLen, seqOf, type Seg } from './tcp-harness.js';

/** Whether a segment's options carry a SACK option (kind 5). */
function sackBlocksOf(b: Uint8Array): number {
  const hl = (b[12]! >> 4) * 4;
  for (let i = 20; i < hl; ) {
    const k = b[i]!;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    if (k === 5) return (b[i + 1]! - 2) / 8;
    i += b[i + 1]!;
  }
  return 0;
}

function transfer(sack: boolean, drop: (n: number) => boolean) {
  const w = new Harness({ sack });
  const got: number[] = [];
  const msg = new Uint8Array(400_000).map((_, i) => (i * 11 + 1) & 0xff);
  let completeAt = -1;
  const receive = (d: IOBuf): void => {
    got.push(...d.toUint8Array());
    d.releaseChain();
    if (got.length === msg.length) completeAt = w.now;
  };
  w.b.listen(80, (): TcpHandler => ({ receive: (_c, d) => receive(d), closed: (c) => c.close() }), 0);
  let connected = -1;
  const c = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain(), connected: () => (connected = w.now) }, 0);
  w.run(1e6);
  let n = 0;
  let sackAcks = 0;
  const dropped = new Set<number>();
  w.tap = (s: Seg) => {
    if (s.from === w.addrB) {
      if (sackBlocksOf(s.bytes) > 0) sackAcks++;
      return true;
    }
    if (payloadLen(s.bytes) === 0) return true;
    n++;
    const seq = seqOf(s.bytes);
    if (!dropped.has(seq) && drop(n)) {
      dropped.add(seq);
      return false;
    }
    return true;
  };
  const t0 = w.now;
  c.sendQueued(IOBuf.copyOf(msg));
  c.close();
  w.run(w.now + 60e9);
  const doneAt = completeAt;
  expect(connected).toBeGreaterThan(0);
  expect(got.length).toBe(msg.length);
  expect(Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
  return { w, sackAcks, t0, doneAt, lost: dropped.size };
}

describe('SACK (RFC 2018, RFC 6675)', () => {
  it('negotiated on both SYNs; four holes in one window are all retransmitted in one recovery, before any RTO', () => {
    // Drop the 20th, 24th, 28th and 32nd data segments (one window, several holes).
    const r = transfer(true, (n) => n === 20 || n === 24 || n === 28 || n === 32);
    const pcbA = r.w.a.stats;
    expect(r.sackAcks).toBeGreaterThan(0);
    expect(pcbA.timeouts).toBe(0);
    expect(pcbA.sackRecoveries).toBe(1);
    expect(pcbA.sackRetransmits).toBe(3); // the first hole is the fast retransmit itself
    expect(pcbA.retransmits).toBe(4); // exactly the holes: nothing sent twice that arrived
    expect(r.w.b.stats.sackBlocksOut).toBeGreaterThan(0);
  });

  it('without SACK (NewReno) the same losses take one round trip per hole', () => {
    const sack = transfer(true, (n) => n === 20 || n === 24 || n === 28 || n === 32);
    const reno = transfer(false, (n) => n === 20 || n === 24 || n === 28 || n === 32);
    console.log(`4 holes in one window: SACK done in ${((sack.doneAt - sack.t0) / 1e3).toFixed(0)} µs, NewReno ${((reno.doneAt - reno.t0) / 1e3).toFixed(0)} µs`);
    expect(reno.w.a.stats.sackRecoveries).toBe(0);
    expect(reno.sackAcks).toBe(0);
    expect(reno.w.a.stats.timeouts).toBe(0);
    // Each partial ACK of NewReno costs a round trip (40 µs): SACK finishes earlier.
    expect(reno.doneAt - reno.t0).toBeGreaterThan(sack.doneAt - sack.t0);
  });

  it('random 5 % loss over 20 seeds: byte-exact both ways, and SACK completes sooner than NewReno in total', () => {
    let tSack = 0;
    let tReno = 0;
    let recoveries = 0;
    for (let seed = 1; seed <= 20; seed++) {
      let x = seed * 2654435761;
      const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const s = transfer(true, () => rnd() < 0.05);
      tSack += s.doneAt - s.t0;
      recoveries += s.w.a.stats.sackRecoveries;
      x = seed * 2654435761;
      const r = transfer(false, () => rnd() < 0.05);
      tReno += r.doneAt - r.t0;
    }
    console.log(`20 seeds, 5 % loss, 400 kB each: SACK ${(tSack / 1e6).toFixed(1)} ms in total, NewReno ${(tReno / 1e6).toFixed(1)} ms (ratio ${(tReno / tSack).toFixed(2)})`);
    expect(recoveries).toBeGreaterThan(20);
    expect(tSack).toBeLessThan(tReno);
  });
});
