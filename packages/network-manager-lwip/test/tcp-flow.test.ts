/**
 * Flow control, delayed ACKs and Nagle (issue 11 item 5), on the simulation-free harness.
 */
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { flags, Harness, payloadLen, type Seg } from './tcp-harness.js';

const ACK = 0x10;

function sink(): { h: TcpHandler; data: number[]; conn: TcpConnection[] } {
  const r = { data: [] as number[], conn: [] as TcpConnection[], h: undefined as unknown as TcpHandler };
  r.h = {
    receive(c, d) {
      if (!r.conn.includes(c)) r.conn.push(c);
      r.data.push(...d.toUint8Array());
      d.releaseChain();
    },
    closed: (c) => c.close(),
  };
  return r;
}

function connectPair(w: Harness, server: TcpHandler, onAccept?: (c: TcpConnection) => void): { client: TcpConnection; accepted: TcpConnection[] } {
  const accepted: TcpConnection[] = [];
  w.b.listen(
    80,
    (c) => {
      accepted.push(c);
      onAccept?.(c);
      return server;
    },
    0,
  );
  const client = w.a.connect(w.addrB, 80, { receive: (_c, d) => d.releaseChain() }, 0);
  w.run(w.now + 1e6);
  return { client, accepted };
}

describe('receive window follows what the application consumed (flow control)', () => {
  it('a paused receiver closes its window: the sender stops and probes; resuming delivers everything byte-exact', () => {
    const w = new Harness();
    const s = sink();
    const { client, accepted } = connectPair(w, s.h, (c) => c.pauseReceive());
    const msg = new Uint8Array(1 << 20).map((_, i) => (i * 13 + 5) & 0xff);
    client.sendQueued(IOBuf.copyOf(msg));
    w.run(w.now + 3e9);
    const server = [...w.b.pcbs.values()][0]!;
    // Nothing delivered; at most one receive window held; the sender sees a zero window and probes.
    expect(s.data.length).toBe(0);
    expect(server.rcvHeld).toBeGreaterThan(200_000);
    expect(server.rcvHeld).toBeLessThanOrEqual(256 * 1024);
    const sender = [...w.a.pcbs.values()][0]!;
    expect(sender.sndWnd).toBe(0);
    expect(w.a.stats.zeroWindowProbes).toBeGreaterThan(0);
    accepted[0]!.resumeReceive();
    w.run(w.now + 30e9);
    expect(s.data.length).toBe(msg.length);
    expect(Buffer.from(s.data).equals(Buffer.from(msg))).toBe(true);
    expect(w.b.stats.windowUpdates).toBeGreaterThan(0);
  });

  it('pausing and resuming on every segment still delivers the stream in order; closed comes after the last byte', () => {
    const w = new Harness();
    const got: number[] = [];
    let closedAt = -1;
    let server: TcpConnection | undefined;
    const h: TcpHandler = {
      receive(c, d) {
        got.push(...d.toUint8Array());
        d.releaseChain();
        c.pauseReceive();
        w.at(w.now + 100_000, () => c.resumeReceive());
      },
      closed: (c) => {
        closedAt = got.length;
        c.close();
      },
    };
    const { client } = connectPair(w, h, (c) => (server = c));
    const msg = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    client.sendQueued(IOBuf.copyOf(msg));
    client.close();
    w.run(w.now + 60e9);
    expect(server).toBeDefined();
    expect(Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
    expect(closedAt).toBe(msg.length);
  });
});

describe('delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2)', () => {
  it('a lone segment is ACKed after 40 ms; every second segment at once; a reply carries the ACK', () => {
    const w = new Harness();
    const acks: number[] = [];
    let replying = false;
    const server: TcpHandler = {
      receive(c, d) {
        d.releaseChain();
        if (replying) c.send(IOBuf.copyOf('ok'));
      },
    };
    const { client } = connectPair(w, server);
    w.tap = (s: Seg) => {
      if (s.from === w.addrB && flags(s.bytes) === ACK && payloadLen(s.bytes) === 0) acks.push(w.now);
      return true;
    };
    const t0 = w.now;
    client.send(IOBuf.copyOf(new Uint8Array(100)));
    w.run(t0 + 100e6);
    expect(acks.map((t) => t - t0)).toEqual([20_000 + 40e6]);
    expect(w.b.stats.delayedAcks).toBe(1);
    acks.length = 0;
    const t1 = w.now;
    client.send(IOBuf.copyOf(new Uint8Array(2 * [...w.a.pcbs.values()][0]!.mss))); // two full segments
    w.run(t1 + 100e6);
    expect(acks.map((t) => t - t1)).toEqual([20_000]);
    acks.length = 0;
    replying = true;
    client.send(IOBuf.copyOf(new Uint8Array(100)));
    w.run(w.now + 100e6);
    expect(acks).toEqual([]); // the reply carried it
  });
});

describe("Nagle's algorithm and setNoDelay", () => {
  function smallWrites(noDelay: boolean): number {
    const w = new Harness();
    const s = sink();
    const { client } = connectPair(w, s.h);
    client.setNoDelay(noDelay);
    const seg0 = w.a.stats.dataSegmentsOut;
    for (let i = 0; i < 100; i++) client.sendQueued(IOBuf.copyOf(new Uint8Array(10).fill(i)));
    w.run(w.now + 1e9);
    expect(s.data.length).toBe(1000);
    expect(s.data.filter((x, i) => x !== Math.floor(i / 10)).length).toBe(0);
    return w.a.stats.dataSegmentsOut - seg0;
  }

  it('100 writes of 10 bytes: 100 segments with setNoDelay(true), 2 with Nagle (setNoDelay(false))', () => {
    expect(smallWrites(true)).toBe(100);
    expect(smallWrites(false)).toBe(2);
  });

  it('setNoDelay(true) releases a segment Nagle is holding', () => {
    const w = new Harness();
    const s = sink();
    const { client } = connectPair(w, s.h);
    client.setNoDelay(false);
    client.send(IOBuf.copyOf(new Uint8Array(1)));
    client.send(IOBuf.copyOf(new Uint8Array(1))); // held: the first is unacknowledged
    const before = w.a.stats.dataSegmentsOut;
    client.setNoDelay(true);
    expect(w.a.stats.dataSegmentsOut - before).toBe(1);
    expect(() => client.setNoDelay('yes' as never)).toThrow(/setNoDelay: expected a boolean/);
  });
});
