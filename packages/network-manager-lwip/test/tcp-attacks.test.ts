/**
 * Attacks and hostile segments (issue 11 items 3 and 4), on the simulation-free harness: a SYN
 * flood from an address that never answers, retransmitted SYNs, forged cookie ACKs, a peer MSS
 * of 1, NULL / Xmas / FIN scans, SYN+FIN, a SYN with a malformed option length.
 */
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4, TcpFlags, TcpState } from '../src/index.js';
import { HalfSipHash, SynCookies } from '../src/tcp/secrets.js';
import { ackOf, craft, flags, Harness, payloadLen, seqOf, type Seg } from './tcp-harness.js';

const ATTACKER = ipv4('10.0.0.66');
const { SYN, ACK, RST, FIN, PSH, URG } = TcpFlags;
/** MSS 1460, NOP, window scale 7 (a Linux-like SYN). */
const LINUX_SYN_OPTS = [2, 4, 0x05, 0xb4, 1, 3, 3, 7];

function echoListener(w: Harness, port: number, got: Uint8Array[] = []): void {
  w.b.listen(
    port,
    (): TcpHandler => ({
      receive(c, d) {
        got.push(d.toUint8Array());
        c.sendQueued(d);
      },
      closed: (c) => c.close(),
    }),
    0,
  );
}

function client(): { h: TcpHandler; connectedAt: number[]; data: number[]; aborted: Error[] } {
  const r = { connectedAt: [] as number[], data: [] as number[], aborted: [] as Error[], h: undefined as unknown as TcpHandler };
  r.h = {
    receive(_c, d) {
      r.data.push(...d.toUint8Array());
      d.releaseChain();
    },
    connected: () => r.connectedAt.push(-1),
    aborted: (_c, e) => void r.aborted.push(e),
  };
  return r;
}

/** `n` SYNs to b:port from ATTACKER (distinct source ports), like a flood tool. */
function flood(w: Harness, port: number, n: number): void {
  for (let i = 0; i < n; i++) {
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 20000 + i, dport: port, seq: 0x1000 * i, flags: SYN, options: LINUX_SYN_OPTS }), ATTACKER);
  }
}

describe('SYN flood (issue 11 item 3)', () => {
  it('200 SYNs from an address that never answers: a real client still connects at once (SYN cookies)', () => {
    const w = new Harness();
    echoListener(w, 80);
    flood(w, 80, 200);
    expect(w.b.pcbStates()).toEqual({ SYN_RCVD: 128 });
    expect(w.b.stats.synCookiesSent).toBe(72);
    const c = client();
    const t0 = w.now;
    let conn: TcpConnection | undefined;
    const h: TcpHandler = { ...c.h, connected: (x) => ((conn = x), c.connectedAt.push(w.now - t0)) };
    w.a.connect(w.addrB, 80, h, 0);
    w.run(w.now + 10e6);
    // One round trip (2 × 20 µs), not the ~1 s SYN retransmission or the minutes of a full backlog.
    expect(c.connectedAt).toEqual([40_000]);
    expect(w.b.stats.synCookiesAccepted).toBe(1);
    // The cookie kept the window scale and MSS: a 200 kB echo is byte-exact.
    const msg = new Uint8Array(200_000).map((_, i) => (i * 7 + 3) & 0xff);
    conn!.sendQueued(IOBuf.copyOf(msg));
    w.run(w.now + 1e9);
    expect(c.data.length).toBe(msg.length);
    expect(Buffer.from(c.data).equals(Buffer.from(msg))).toBe(true);
    const accepted = [...w.b.pcbs.values()].find((p) => p.remoteIp === w.addrA)!;
    expect(accepted.sndScale).toBe(w.a.ourScale);
    expect(accepted.mss).toBe(1460);
    expect(w.a.stats.retransmits).toBe(0);
  });

  it('with cookies off, the oldest half-open entry is evicted and the client connects at once', () => {
    const w = new Harness({ synCookies: false });
    echoListener(w, 80);
    flood(w, 80, 200);
    expect(w.b.pcbStates()).toEqual({ SYN_RCVD: 128 });
    expect(w.b.stats.halfOpenEvicted).toBe(72);
    // The survivors are the newest 128 flood entries.
    const ports = [...w.b.pcbs.values()].map((p) => p.remotePort).sort((x, y) => x - y);
    expect(ports[0]).toBe(20072);
    const c = client();
    const t0 = w.now;
    w.a.connect(w.addrB, 80, { ...c.h, connected: () => c.connectedAt.push(w.now - t0) }, 0);
    w.run(w.now + 10e6);
    expect(c.connectedAt).toEqual([40_000]);
    expect(w.b.stats.halfOpenEvicted).toBe(73);
    expect(w.b.stats.synCookiesSent).toBe(0);
  });

  it('a retransmitted SYN in SYN-RECEIVED is answered with the SYN-ACK at once, not after our RTO', () => {
    const w = new Harness();
    echoListener(w, 80);
    const synAcks: Array<{ at: number; seg: Seg }> = [];
    w.tap = (s) => {
      if (s.to === ATTACKER && (flags(s.bytes) & (SYN | ACK)) === (SYN | ACK)) synAcks.push({ at: w.now, seg: s });
      return true;
    };
    const syn = craft(ATTACKER, w.addrB, { sport: 4000, dport: 80, seq: 777, flags: SYN, options: LINUX_SYN_OPTS });
    w.inject(w.b, syn, ATTACKER);
    w.run(10e6);
    w.inject(w.b, syn, ATTACKER); // at 10 ms: our SYN-ACK was lost, the peer tries again
    w.run(w.now + 1e6);
    expect(synAcks.map((x) => x.at)).toEqual([0, 10e6]);
    expect(seqOf(synAcks[1]!.seg.bytes)).toBe(seqOf(synAcks[0]!.seg.bytes));
    expect(ackOf(synAcks[1]!.seg.bytes)).toBe(778);
    expect(w.b.stats.synRetransmitsAnswered).toBe(1);
  });

  it('cookie ACKs: a forged or stale cookie gets a RST and no connection', () => {
    const w = new Harness();
    echoListener(w, 80);
    flood(w, 80, 129);
    const replies: Seg[] = [];
    w.tap = (s) => (s.to === ATTACKER && replies.push(s), true);
    // The flood's 129th SYN got a cookie (sport 20128, ISN 0x80000).
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 20128, dport: 80, seq: 0x80000, flags: SYN, options: LINUX_SYN_OPTS }), ATTACKER);
    const cookie = seqOf(replies[replies.length - 1]!.bytes);
    const forged = craft(ATTACKER, w.addrB, { sport: 20128, dport: 80, seq: 0x80001, ack: ((cookie ^ 0x00800000) + 1) >>> 0, flags: ACK }); // a bit of the hash wrong
    w.inject(w.b, forged, ATTACKER);
    expect(w.b.stats.synCookiesRejected).toBe(1);
    expect(flags(replies[replies.length - 1]!.bytes) & RST).toBe(RST);
    // The right cookie, three minutes later (older than two cookie periods): refused too.
    w.run(w.now + 180e9);
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 20128, dport: 80, seq: 0x80001, ack: (cookie + 1) >>> 0, flags: ACK }), ATTACKER);
    expect(w.b.stats.synCookiesAccepted).toBe(0);
  });
});

describe('SYN cookies (RFC 4987, Linux layout)', () => {
  it('round trip: MSS (Linux table), window scale and SACK-permitted come back; other tuples and old minutes fail', () => {
    const ck = new SynCookies(new HalfSipHash(0x01234567, 0x89abcdef));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 48, max: 9000 }),
        fc.option(fc.integer({ min: 0, max: 14 }), { nil: null }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e12 }),
        (saddr, sport, isn, mss, ws, sack, now) => {
          const c = ck.make(saddr, 0x0a000002, sport, 80, isn, now, { mss, windowScale: ws, sackPermitted: sack });
          const d = ck.check(saddr, 0x0a000002, sport, 80, isn, c, now + 30e9);
          const want = [1460, 1440, 1300, 536].find((m) => m <= mss) ?? 536;
          expect(d).toEqual({ mss: want, windowScale: ws, sackPermitted: sack });
          expect(ck.check(saddr, 0x0a000002, sport ^ 1 || 2, 80, isn, c, now)).toBeNull();
          expect(ck.check((saddr + 1) >>> 0, 0x0a000002, sport, 80, isn, c, now)).toBeNull();
          expect(ck.check(saddr, 0x0a000002, sport, 80, isn, c, now + 125e9)).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random ACK numbers are accepted as cookies at about 2^-17, not more', () => {
    const ck = new SynCookies(new HalfSipHash(7, 11));
    let ok = 0;
    const n = 200_000;
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      if (ck.check(0x0a000042, 0x0a000002, 1000 + (i & 1023), 80, i, x, 5e9) !== null) ok++;
    }
    // Expected ~3 (200k × 2^-17 × 2 ages); a broken check would accept thousands.
    expect(ok).toBeLessThan(20);
  });
});

describe('segments a listener must refuse or tolerate (issue 11 item 4)', () => {
  function listenAndWatch(): { w: Harness; replies: Seg[] } {
    const w = new Harness();
    echoListener(w, 80);
    const replies: Seg[] = [];
    w.tap = (s) => (s.to === ATTACKER && replies.push(s), true);
    return { w, replies };
  }

  it('NULL, FIN and Xmas segments to a listener are dropped (no RST); to a closed port they get a RST', () => {
    const { w, replies } = listenAndWatch();
    const probes = [0, FIN, FIN | PSH | URG];
    for (const f of probes) w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5000, dport: 80, seq: 1, flags: f }), ATTACKER);
    expect(replies).toEqual([]);
    expect(w.b.stats.listenerNoAckDrops).toBe(3);
    for (const f of probes) w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5000, dport: 81, seq: 1, flags: f }), ATTACKER);
    expect(replies.map((r) => flags(r.bytes))).toEqual([RST | ACK, RST | ACK, RST | ACK]);
    expect(w.b.pcbs.size).toBe(0);
  });

  it('SYN+FIN opens nothing and is not answered', () => {
    const { w, replies } = listenAndWatch();
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5000, dport: 80, seq: 1, flags: SYN | FIN, options: LINUX_SYN_OPTS }), ATTACKER);
    expect(replies).toEqual([]);
    expect(w.b.pcbs.size).toBe(0);
    expect(w.b.stats.synFinDrops).toBe(1);
  });

  it('a SYN with a malformed option length is accepted with its options ignored (MSS 536, no window scale)', () => {
    const { w, replies } = listenAndWatch();
    // MSS 1460, then a window-scale option claiming 9 bytes in a 4-byte area remainder.
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5000, dport: 80, seq: 1, flags: SYN, options: [2, 4, 0x05, 0xb4, 3, 9, 7, 0] }), ATTACKER);
    expect(replies.map((r) => flags(r.bytes))).toEqual([SYN | ACK]);
    expect(w.b.stats.badOptions).toBe(1);
    const pcb = [...w.b.pcbs.values()][0]!;
    expect(pcb.state).toBe(TcpState.SynRcvd);
    expect(pcb.mss).toBe(536);
    expect(pcb.sndScale).toBe(0);
  });

  it('a peer MSS of 1 is clamped to 48: a 20 kB reply goes out in 48-byte segments, not 1-byte ones', () => {
    const { w, replies } = listenAndWatch();
    w.b.listen(
      81,
      (): TcpHandler => ({
        receive(c, d) {
          d.releaseChain();
          c.sendQueued(IOBuf.copyOf(new Uint8Array(20_000).fill(0x61)));
        },
      }),
      0,
    );
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5001, dport: 81, seq: 100, flags: SYN, options: [2, 4, 0, 1] }), ATTACKER);
    const synAck = replies[0]!.bytes;
    const isn = seqOf(synAck);
    w.inject(w.b, craft(ATTACKER, w.addrB, { sport: 5001, dport: 81, seq: 101, ack: isn + 1, flags: ACK | PSH, payload: new Uint8Array([1]) }), ATTACKER);
    expect(w.b.stats.mssClamped).toBe(1);
    const data = replies.filter((r) => payloadLen(r.bytes) > 0);
    expect(data.length).toBeGreaterThan(0);
    for (const r of data) expect(payloadLen(r.bytes)).toBe(48);
  });
});

describe('initial sequence numbers', () => {
  const isnsOf = (w: Harness, n: number): number[] => {
    const isns: number[] = [];
    w.tap = (s) => ((flags(s.bytes) & (SYN | ACK)) === SYN && isns.push(seqOf(s.bytes)), true);
    w.b.listen(80, () => client().h, 0);
    for (let i = 0; i < n; i++) {
      w.a.connect(w.addrB, 80, client().h, 0);
      w.run(w.now + 1e6);
    }
    return isns;
  };

  it('realtime runs (secureIsn): RFC 6528, the ISN of one connection does not predict the next', () => {
    let k = 1;
    const isns = isnsOf(new Harness({}, { secureIsn: true, randomU32: () => (k = Math.imul(k, 48271) >>> 0) }), 50);
    // Consecutive connections 1 ms apart: M moves by 250 (4 µs ticks); F is a keyed hash per tuple.
    const steps = isns.slice(1).map((x, i) => (x - isns[i]!) >>> 0);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.filter((d) => d < 1_000_000).length).toBeLessThan(3);
    // A different key gives different ISNs for the same tuples and times.
    const other = isnsOf(new Harness({}, { secureIsn: true, randomU32: () => 42 }), 50);
    expect(other.filter((x, i) => x === isns[i]).length).toBe(0);
  });

  it('virtual-clock runs: the same ISNs every run (reproducible)', () => {
    expect(isnsOf(new Harness(), 20)).toEqual(isnsOf(new Harness(), 20));
  });
});
