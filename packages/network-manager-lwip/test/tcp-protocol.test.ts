import { IOBuf, UsageError, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { TcpFlags } from '../src/index.js';
import { fixChecksum, flags, Harness, payloadLen } from './tcp-harness.js';
import { payloadFor } from '@ebbrt/testkit/net';

interface Rec {
  data: number[];
  connected: boolean;
  closed: boolean;
  aborted?: Error;
  windowIncreased: number;
}

function recorder(closeOnFin = true): { rec: Rec; h: TcpHandler } {
  const rec: Rec = { data: [], connected: false, closed: false, windowIncreased: 0 };
  return {
    rec,
    h: {
      receive(_c, d) {
        rec.data.push(...d.toUint8Array());
        d.releaseChain();
      },
      connected: () => (rec.connected = true),
      closed(c) {
        rec.closed = true;
        if (closeOnFin) c.close();
      },
      aborted: (_c, e) => (rec.aborted = e),
      sendWindowIncreased: () => rec.windowIncreased++,
    },
  };
}

describe('TCP protocol (simulation-free harness, explicit virtual time)', () => {
  it('simultaneous open and simultaneous close (CLOSING -> TIME_WAIT on both sides)', () => {
    const w = new Harness({ mslNs: 50e6 });
    const ra = recorder(false);
    const rb = recorder(false);
    const ca = w.a.connect(w.addrB, 6000, ra.h, 0, 5000);
    const cb = w.b.connect(w.addrA, 5000, rb.h, 0, 6000);
    w.run(10e6);
    expect(ra.rec.connected && rb.rec.connected).toBe(true);
    expect(ca.state).toBe('ESTABLISHED');
    ca.send(IOBuf.copyOf('hello from a'));
    cb.send(IOBuf.copyOf('hello from b'));
    w.run(w.now + 10e6);
    expect(String.fromCharCode(...rb.rec.data)).toBe('hello from a');
    expect(String.fromCharCode(...ra.rec.data)).toBe('hello from b');
    ca.shutdown();
    cb.shutdown();
    w.run(w.now + 10e6);
    expect(ra.rec.closed && rb.rec.closed).toBe(true);
    expect(w.a.pcbStates()).toEqual({ TIME_WAIT: 1 });
    expect(w.b.pcbStates()).toEqual({ TIME_WAIT: 1 });
    w.run(w.now + 200e6);
    expect(w.a.pcbs.size + w.b.pcbs.size).toBe(0);
  });

  it('active close goes through TIME_WAIT (2 MSL) and the passive side through LAST_ACK', () => {
    const w = new Harness({ mslNs: 100e6 });
    const rb = recorder(true);
    w.b.listen(80, () => rb.h, 0);
    const ra = recorder(false);
    const c = w.a.connect(w.addrB, 80, ra.h, 0);
    w.run(1e6);
    c.send(IOBuf.copyOf('bye'));
    c.shutdown();
    w.run(w.now + 1e6);
    expect(rb.rec.closed).toBe(true);
    expect(ra.rec.closed).toBe(true); // B closed in its closed callback: our side sees B's FIN
    expect(w.b.pcbs.size).toBe(0); // LAST_ACK -> freed on the ACK of its FIN
    expect(w.a.pcbStates()).toEqual({ TIME_WAIT: 1 });
    w.run(w.now + 150e6);
    expect(w.a.pcbStates()).toEqual({ TIME_WAIT: 1 });
    w.run(w.now + 60e6);
    expect(w.a.pcbs.size).toBe(0);
  });

  it('RTO: exponential backoff from the RTT estimate, then aborted with timeout', () => {
    const w = new Harness({ maxRetries: 5 });
    const rb = recorder();
    w.b.listen(80, () => rb.h, 0);
    const ra = recorder();
    const c = w.a.connect(w.addrB, 80, ra.h, 0);
    w.run(1e6);
    const sends: number[] = [];
    w.tap = (s) => {
      if (s.from === w.addrA && payloadLen(s.bytes) > 0) sends.push(w.now);
      return s.from === w.addrA ? true : false; // B's answers are all lost
    };
    c.send(IOBuf.copyOf(payloadFor(1, 100)));
    w.run(w.now + 100e9);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(gaps).toEqual([200e6, 400e6, 800e6, 1600e6, 3200e6]); // RTO min 200 ms (RTT 40 us), x2 each
    expect(ra.rec.aborted?.message).toBe('timeout');
    expect(w.a.pcbs.size).toBe(0);
    expect(w.a.stats.timeouts).toBe(1);
  });

  it('fast retransmit + NewReno recover one lost segment without waiting for the RTO', () => {
    const w = new Harness();
    const rb = recorder();
    w.b.listen(80, () => rb.h, 0);
    const ra = recorder();
    const c = w.a.connect(w.addrB, 80, ra.h, 0);
    w.run(1e6);
    // Grow cwnd first.
    c.send(IOBuf.copyOf(payloadFor(1, 60_000)));
    w.run(w.now + 10e6);
    let dataSegs = 0;
    w.tap = (s) => !(s.from === w.addrA && payloadLen(s.bytes) > 0 && ++dataSegs === 3);
    const t0 = w.now;
    const data = payloadFor(2, 60_000);
    c.send(IOBuf.copyOf(data));
    w.run(w.now + 50e6);
    expect(rb.rec.data.length).toBe(120_000);
    expect(Uint8Array.from(rb.rec.data.slice(60_000))).toEqual(data);
    expect(w.a.stats.fastRetransmits).toBe(1);
    expect(w.a.stats.retransmits).toBe(1);
    expect(w.now - t0).toBeLessThan(200e6);
  });

  it('bounded SYN backlog: extra SYNs are dropped; half-open pcbs expire; connects time out', () => {
    const w = new Harness({ synBacklog: 2, maxSynRetries: 2 });
    w.b.listen(80, () => recorder().h, 0);
    w.tap = (s) => s.from === w.addrA; // SYN-ACKs lost
    const recs = [0, 1, 2, 3, 4].map(() => recorder());
    for (const r of recs) w.a.connect(w.addrB, 80, r.h, 0);
    w.run(1e6);
    expect(w.b.pcbStates()).toEqual({ SYN_RCVD: 2 });
    expect(w.b.stats.backlogDrops).toBe(3);
    w.run(w.now + 60e9);
    expect(w.b.pcbs.size).toBe(0);
    expect(w.a.pcbs.size).toBe(0);
    for (const r of recs) expect(r.rec.aborted?.message).toBe('connection timed out');
  });

  it('zero window: data waits, the sender probes, and flows when the window opens', () => {
    const w = new Harness();
    let closedWindow = true;
    w.tap = (s) => {
      if (s.from === w.addrB && closedWindow && (flags(s.bytes) & TcpFlags.RST) === 0) {
        s.bytes[14] = 0;
        s.bytes[15] = 0;
        fixChecksum(s.bytes, w.addrB, w.addrA);
      }
      return true;
    };
    const rb = recorder();
    w.b.listen(80, () => rb.h, 0);
    const ra = recorder();
    const c = w.a.connect(w.addrB, 80, ra.h, 0);
    w.run(1e6);
    expect(c.sendWindowRemaining()).toBe(0);
    expect(() => c.send(IOBuf.copyOf('x'))).toThrow(UsageError);
    const data = payloadFor(3, 20_000);
    c.sendQueued(IOBuf.copyOf(data));
    w.run(w.now + 3e9);
    expect(w.a.stats.zeroWindowProbes).toBeGreaterThan(1);
    expect(rb.rec.data.length).toBeLessThanOrEqual(w.a.stats.zeroWindowProbes); // at most the probe bytes
    closedWindow = false;
    w.run(w.now + 30e9);
    expect(Uint8Array.from(rb.rec.data)).toEqual(data);
    expect(ra.rec.windowIncreased).toBeGreaterThan(0);
  });

  it('send beyond the window throws; sendQueued queues and sendWindowIncreased follows', () => {
    const w = new Harness({ sendBuffer: 8192 });
    const rb = recorder();
    w.b.listen(80, () => rb.h, 0);
    const ra = recorder();
    const c: TcpConnection = w.a.connect(w.addrB, 80, ra.h, 0);
    expect(c.sendWindowRemaining()).toBe(0); // not established yet
    w.run(1e6);
    expect(c.sendWindowRemaining()).toBe(8192);
    expect(() => c.send(IOBuf.copyOf(new Uint8Array(8193)))).toThrow(/exceeds the send window/);
    const data = payloadFor(4, 50_000);
    c.sendQueued(IOBuf.copyOf(data));
    expect(c.sendWindowRemaining()).toBe(0);
    w.run(w.now + 1e9);
    expect(Uint8Array.from(rb.rec.data)).toEqual(data);
    expect(ra.rec.windowIncreased).toBe(1);
    expect(c.sendWindowRemaining()).toBe(8192);
    c.close();
    expect(() => c.send(IOBuf.copyOf('x'))).toThrow(UsageError);
  });

  it('an any-port listener (a gateway) accepts every port without its own listener; port listeners still win', () => {
    const w = new Harness({});
    const ports: number[] = [];
    const specific = recorder();
    const wild = recorder();
    w.b.listen(80, () => specific.h, 0);
    const any = w.b.listenAnyPort((c) => {
      ports.push(c.localPort);
      return wild.h;
    }, 0);
    expect(() => w.b.listenAnyPort(() => wild.h, 0)).toThrow(UsageError);
    const r1 = recorder();
    const c1 = w.a.connect(w.addrB, 7000, r1.h, 0);
    const r2 = recorder();
    w.a.connect(w.addrB, 80, r2.h, 0);
    w.run(10e6);
    expect(r1.rec.connected && r2.rec.connected).toBe(true);
    expect(ports).toEqual([7000]);
    c1.send(IOBuf.copyOf('to 7000'));
    w.run(w.now + 10e6);
    expect(String.fromCharCode(...wild.rec.data)).toBe('to 7000');
    any.close();
    const r3 = recorder();
    w.a.connect(w.addrB, 7001, r3.h, 0);
    w.run(w.now + 10e6);
    expect(r3.rec.aborted?.message).toMatch(/refused|reset/i);
  });

  it('filling the send window exactly (send or sendQueued) is back-pressure: sendWindowIncreased follows', () => {
    for (const how of ['send', 'sendQueued'] as const) {
      const w = new Harness({});
      const rb = recorder();
      w.b.listen(80, () => rb.h, 0);
      const ra = recorder();
      const c = w.a.connect(w.addrB, 80, ra.h, 0);
      w.run(10e6);
      const room = c.sendWindowRemaining();
      expect(room).toBeGreaterThan(0);
      c[how](IOBuf.wrap(new Uint8Array(room)));
      expect(c.sendWindowRemaining()).toBe(0);
      w.run(w.now + 100e6);
      expect(rb.rec.data.length, how).toBe(room);
      expect(ra.rec.windowIncreased, how).toBe(1);
    }
  });
});
