import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IOBuf, validateManifest, type TcpConnection, type TcpListener, type UdpSocket } from '@ebbrt/interfaces';
import { SendWindowError, hostedNetworkOptionsSchema, manifest } from '../src/index.js';
import { hostedNode, lcg, pseudoRandomBytes, until, type Fixture } from './fixture.js';

let f: Fixture | undefined;
const plain: (Server | Socket)[] = [];
function node(options: Record<string, unknown> = {}): Fixture {
  f = hostedNode(2, options);
  return f;
}
afterEach(async () => {
  f?.dispose();
  f = undefined;
  // Sockets first: server.close() waits for every connection it accepted, so a server-side socket
  // a failed test left open would turn the failure into a hook timeout.
  const left = plain.splice(0);
  for (const s of left) if (!('listening' in s)) s.destroy();
  for (const s of left) if ('listening' in s) await new Promise<void>((r) => s.close(() => r()));
});

const sha = (b: Uint8Array | Buffer[]) => {
  const h = createHash('sha256');
  if (b instanceof Uint8Array) h.update(b);
  else for (const x of b) h.update(x);
  return h.digest('hex');
};

/** A plain node:net client connected to 127.0.0.1:port. */
function client(port: number): Socket {
  const s = connect({ port, host: '127.0.0.1' });
  plain.push(s);
  return s;
}

/** A plain node:net server on an ephemeral loopback port. */
async function plainServer(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    plain.push(s);
    onConnection(s);
  });
  plain.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function listen(fx: Fixture, core: number, makeHandler: Parameters<ReturnType<Fixture['nm']>['tcpListen']>[1]) {
  return fx.onCore(core, async () => {
    const l = fx.nm().tcpListen(0, makeHandler);
    expect(l.port).toBe(0);
    await l.listening;
    fx.checkResumed(core, 'after await listening');
    return l;
  });
}

describe('hosted NetworkManager: TCP', () => {
  it('echoes 1 MB per client byte-exact, every callback on the bound core; closed when the client ends', async () => {
    const fx = node();
    const closedOn: number[] = [];
    const accepted: number[] = [];
    const listener = await listen(fx, 0, (conn) => {
      fx.check(conn.core, 'accept');
      accepted.push(conn.core);
      return {
        receive(c, data) {
          fx.check(c.core, 'receive');
          c.sendQueued(data);
        },
        closed(c) {
          fx.check(c.core, 'closed');
          closedOn.push(c.core);
          c.close();
        },
        aborted: (_c, e) => fx.violations.push(`aborted: ${e.message}`),
      };
    });
    expect(listener.port).toBeGreaterThan(0);

    const total = 1 << 20;
    const runClient = async (seed: number) => {
      const payload = pseudoRandomBytes(total, seed);
      const s = client(listener.port);
      const got: Buffer[] = [];
      let ended = false;
      s.on('data', (b: Buffer) => got.push(b));
      s.on('end', () => (ended = true));
      await new Promise<void>((r) => s.once('connect', () => r()));
      const next = lcg(seed);
      for (let off = 0; off < total; ) {
        const n = Math.min(next(1, 65536), total - off);
        s.write(payload.subarray(off, off + n));
        off += n;
      }
      s.end();
      await until(() => ended, `client ${seed} to get the echo and FIN`);
      expect(Buffer.concat(got).length).toBe(total);
      expect(sha(got)).toBe(sha(payload));
    };
    await Promise.all([runClient(1), runClient(2)]);
    await until(() => closedOn.length === 2, 'closed on both connections');
    expect(accepted.sort()).toEqual([0, 1]); // round-robin across cores
    expect(closedOn.sort()).toEqual([0, 1]);
    expect(fx.violations).toEqual([]);
    expect(fx.failures).toEqual([]);
  });

  it('tcpConnect to a node:net server: connected, data both ways, closed when the server ends', async () => {
    const fx = node();
    const { port } = await plainServer((s) => {
      s.write('hello from server;');
      s.on('data', (b: Buffer) => {
        s.write(b.toString().toUpperCase());
        if (b.toString().includes('bye')) s.end();
      });
    });
    const log: string[] = [];
    let conn: TcpConnection | undefined;
    let received = '';
    await fx.onCore(1, () => {
      conn = fx.nm().tcpConnect('127.0.0.1', port, {
        connected(c) {
          fx.check(1, 'connected');
          log.push('connected');
          expect(c.localPort).toBeGreaterThan(0);
          expect(c.remotePort).toBe(port);
          expect(c.remoteAddress).toBe('127.0.0.1');
          c.send(IOBuf.copyOf('ping ').appendChain(IOBuf.copyOf('and bye')));
        },
        receive(c, data) {
          fx.check(c.core, 'receive');
          received += Buffer.from(data.toUint8Array()).toString();
        },
        closed(c) {
          fx.check(c.core, 'closed');
          log.push('closed');
          c.close();
          expect(() => c.send(IOBuf.copyOf('late'))).toThrow(/closed/);
          expect(c.sendWindowRemaining()).toBe(0);
        },
        aborted: (_c, e) => log.push(`aborted ${e.message}`),
      });
      expect(conn.core).toBe(1);
    });
    await until(() => log.includes('closed'), 'closed');
    expect(log).toEqual(['connected', 'closed']);
    expect(received).toBe('hello from server;PING AND BYE');
    expect(fx.violations).toEqual([]);
    expect(fx.failures).toEqual([]);
  });

  it('networkStats: each live connection with its addresses, state and core, and the bytes moved; gone once closed', async () => {
    const fx = node();
    let serverSide: Socket | undefined;
    let serverGot = 0;
    const { port } = await plainServer((s) => {
      serverSide = s;
      // Read what arrives: a socket nobody reads never emits 'end', so the client's FIN would
      // leave it half open for good (and server.close() waiting on it).
      s.on('data', (b: Buffer) => void (serverGot += b.length));
      s.write('0123456789');
    });
    expect(fx.root.networkStats().connections).toEqual([]);
    let got = 0;
    let conn: TcpConnection | undefined;
    await fx.onCore(1, () => {
      conn = fx.nm().tcpConnect('127.0.0.1', port, {
        connected: (c) => c.send(IOBuf.copyOf('abc')),
        receive: (_c, data) => void (got += data.computeChainDataLength()),
        closed: (c) => c.close(),
        aborted: () => undefined,
      });
    });
    await until(() => got === 10 && serverGot === 3, 'bytes both ways');
    const outgoing = { localAddress: '127.0.0.1', localPort: conn!.localPort, remoteAddress: '127.0.0.1', remotePort: port, state: 'ESTABLISHED', core: 1, sendQueued: 0, receiveQueued: 0 };
    let stats = fx.root.networkStats();
    expect(stats.connections).toEqual([outgoing]);
    expect(stats.stack).toEqual({ 'tcp.connections': 1, 'tcp.opened': 1, 'tcp.bytesRead': 10, 'tcp.bytesWritten': 3, 'host.listeners': 0, 'host.udpSockets': 0 });
    expect(stats.drops).toEqual({});

    // An accepted connection, and its listener.
    let acceptedGot = 0;
    const listener = await listen(fx, 0, () => ({ receive: (_c, data) => void (acceptedGot += data.computeChainDataLength()), closed: (c) => c.close() }));
    const peer = client(listener.port);
    await new Promise<void>((r) => peer.once('connect', () => r()));
    peer.write('12345');
    await until(() => acceptedGot === 5, 'the accepted connection to receive 5 bytes');
    stats = fx.root.networkStats();
    expect(stats.connections).toHaveLength(2);
    expect(stats.connections).toContainEqual(outgoing);
    expect(stats.connections).toContainEqual({ localAddress: '127.0.0.1', localPort: listener.port, remoteAddress: '127.0.0.1', remotePort: peer.localPort, state: 'ESTABLISHED', core: 0, sendQueued: 0, receiveQueued: 0 });
    expect(stats.stack).toEqual({ 'tcp.connections': 2, 'tcp.opened': 2, 'tcp.bytesRead': 15, 'tcp.bytesWritten': 3, 'host.listeners': 1, 'host.udpSockets': 0 });
    peer.end();
    await fx.onCore(0, () => listener.close());

    serverSide!.end();
    await until(() => fx.root.networkStats().connections.length === 0, 'closed connections forgotten');
    // Closed connections' bytes stay in the totals (counters do not go down).
    expect(fx.root.networkStats().stack).toEqual({ 'tcp.connections': 0, 'tcp.opened': 2, 'tcp.bytesRead': 15, 'tcp.bytesWritten': 3, 'host.listeners': 0, 'host.udpSockets': 0 });
    expect(fx.root.networkStats().drops).toEqual({});
    await until(() => serverSide!.destroyed, 'server side closed by the client FIN');
    expect(fx.failures).toEqual([]);
  });

  it('connecting to a closed port reports aborted with ECONNREFUSED on the calling core', async () => {
    const fx = node();
    const { server, port } = await plainServer(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    plain.splice(plain.indexOf(server), 1);
    const log: string[] = [];
    let reason: (Error & { code?: string }) | undefined;
    await fx.onCore(1, () => {
      fx.nm().tcpConnect('127.0.0.1', port, {
        connected: () => log.push('connected'),
        receive: () => log.push('receive'),
        aborted(_c, e) {
          fx.check(1, 'aborted');
          log.push('aborted');
          reason = e;
        },
      });
    });
    await until(() => log.length > 0, 'aborted');
    expect(log).toEqual(['aborted']);
    expect(reason?.code).toBe('ECONNREFUSED');
    expect(fx.violations).toEqual([]);
    // The stats count it under its reason, and the failed connection is gone.
    await until(() => fx.root.networkStats().connections.length === 0, 'the refused connection forgotten');
    expect(fx.root.networkStats().drops).toEqual({ 'tcp.error.ECONNREFUSED': 1 });
    expect(fx.root.networkStats().stack).toMatchObject({ 'tcp.connections': 0, 'tcp.opened': 1, 'tcp.bytesRead': 0, 'tcp.bytesWritten': 0 });
  });

  it('back-pressure: send beyond the window throws; sendQueued delivers everything and sendWindowIncreased fires', async () => {
    const fx = node({ sendWindow: 64 * 1024, acceptCore: 'listener' });
    let conn: TcpConnection | undefined;
    let increased = 0;
    let closed = false;
    const listener = await listen(fx, 1, (c) => {
      conn = c;
      return {
        receive: () => {},
        sendWindowIncreased(c2) {
          fx.check(c2.core, 'sendWindowIncreased');
          increased++;
        },
        closed(c2) {
          closed = true;
          c2.close();
        },
      };
    });
    const s = client(listener.port); // paused: no 'data' listener yet, so the kernel buffers fill
    await until(() => conn !== undefined, 'accept');
    const pool = pseudoRandomBytes(1 << 20, 7);
    const sent = createHash('sha256');
    let sentBytes = 0;
    const outcome = await fx.onCore(1, () => {
      const c = conn!;
      expect(c.sendWindowRemaining()).toBe(64 * 1024);
      expect(() => c.send(IOBuf.wrap(pool.subarray(0, 64 * 1024 + 1)))).toThrow(SendWindowError);
      // Fill the window: the kernel's buffers are finite, so this ends within one event.
      let offset = 0;
      while (c.sendWindowRemaining() > 0) {
        if (sentBytes > 256 << 20) throw new Error('window never filled');
        const n = Math.min(c.sendWindowRemaining(), 60_000, pool.length - offset);
        const view = pool.subarray(offset, offset + n);
        c.send(IOBuf.wrap(view));
        sent.update(view);
        sentBytes += n;
        offset = (offset + n) % pool.length;
      }
      let threw = false;
      try {
        c.send(IOBuf.copyOf('x'));
      } catch (e) {
        threw = e instanceof SendWindowError;
      }
      // Queue 1 MB more, as a 3-element chain.
      const queued = IOBuf.wrap(pool.subarray(0, 300_000))
        .appendChain(IOBuf.wrap(pool.subarray(300_000, 300_000)))
        .appendChain(IOBuf.wrap(pool.subarray(300_000)));
      c.sendQueued(queued);
      sent.update(pool);
      sentBytes += pool.length;
      return { threw, remainingAfterQueue: c.sendWindowRemaining() };
    });
    expect(outcome).toEqual({ threw: true, remainingAfterQueue: 0 });
    expect(increased).toBe(0);

    const got = createHash('sha256');
    let gotBytes = 0;
    s.on('data', (b: Buffer) => {
      got.update(b);
      gotBytes += b.length;
      if (gotBytes === sentBytes) s.end();
    });
    await until(() => closed, 'all bytes and the close');
    expect(gotBytes).toBe(sentBytes);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(increased).toBeGreaterThan(0);
    expect(fx.violations).toEqual([]);
    expect(fx.failures).toEqual([]);
  });

  it('bindCore moves later callbacks, including ones already queued, to the other core', async () => {
    const fx = node({ acceptCore: 'listener' });
    const seen: string[] = [];
    const listener = await listen(fx, 0, () => ({
      receive(c, data) {
        fx.check(c.core, 'receive');
        const text = Buffer.from(data.toUint8Array()).toString();
        seen.push(`${text}@${c.core}`);
        if (text.startsWith('move')) {
          c.bindCore(1);
          expect(c.core).toBe(1);
          expect(() => c.bindCore(2)).toThrow(RangeError);
          c.send(IOBuf.copyOf('moved'));
        }
      },
      closed(c) {
        fx.check(c.core, 'closed');
        seen.push(`closed@${c.core}`);
        c.close();
      },
    }));
    const s = client(listener.port);
    let reply = '';
    s.on('data', (b: Buffer) => {
      reply += b.toString();
      if (reply === 'moved') {
        s.write('after');
        s.end();
      }
    });
    s.write('move');
    await until(() => seen.includes('closed@1'), 'closed on core 1');
    expect(seen).toEqual(['move@0', 'after@1', 'closed@1']);
    expect(fx.violations).toEqual([]);
    expect(fx.failures).toEqual([]);
  });

  it('peer reset reports aborted (ECONNRESET); abort() resets the peer', async () => {
    const fx = node({ acceptCore: 'listener' });
    const reasons: string[] = [];
    const conns: TcpConnection[] = [];
    const listener = await listen(fx, 1, (c) => {
      conns.push(c);
      return {
        receive: () => {},
        aborted(c2, e) {
          fx.check(c2.core, 'aborted');
          reasons.push((e as Error & { code?: string }).code ?? e.message);
        },
      };
    });
    const a = client(listener.port);
    await new Promise<void>((r) => a.once('connect', () => r()));
    await until(() => conns.length === 1, 'first accept');
    a.resetAndDestroy();
    await until(() => reasons.length === 1, 'aborted');
    expect(reasons).toEqual(['ECONNRESET']);

    const b = client(listener.port);
    let peerError = '';
    b.on('error', (e: Error & { code?: string }) => (peerError = e.code ?? e.message));
    await until(() => conns.length === 2, 'second accept');
    await fx.onCore(1, () => conns[1]!.abort());
    await until(() => peerError !== '', 'peer sees the reset');
    expect(peerError).toBe('ECONNRESET');
    expect(reasons).toEqual(['ECONNRESET']); // abort() itself calls back nothing
    expect(fx.violations).toEqual([]);
  });

  it('pauseReceive holds data (the kernel window closes on the sender), resumeReceive delivers it in order; setNoDelay checks its argument', async () => {
    const fx = node();
    const got: Buffer[] = [];
    let closed = false;
    const conns: TcpConnection[] = [];
    const listener = await listen(fx, 0, (c) => {
      conns.push(c);
      c.pauseReceive();
      c.setNoDelay(false);
      return {
        receive: (_c, d) => {
          got.push(Buffer.from(d.toUint8Array()));
          d.releaseChain();
        },
        closed: (x) => {
          closed = true;
          x.close();
        },
      };
    });
    const data = pseudoRandomBytes(8 << 20, 3);
    const a = client(listener.port);
    a.end(data);
    await until(() => conns.length === 1, 'accept');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.length).toBe(0);
    expect(a.writableLength).toBeGreaterThan(0); // the paused side stopped reading: back-pressure
    await fx.onCore(0, () => conns[0]!.resumeReceive());
    await until(() => closed, 'closed after the data', 10_000);
    expect(sha(got)).toBe(sha(data));
    await fx.onCore(0, () => expect(() => conns[0]!.setNoDelay('no' as never)).toThrow(/expected a boolean/));
    await fx.onCore(0, () => {
      expect(() => conns[0]!.setKeepAlive('no' as never)).toThrow(/expected a boolean/);
      expect(() => conns[0]!.setKeepAlive(true, -1)).toThrow(/idleMs/);
    });
    expect(fx.violations).toEqual([]);
  });

  it('listening rejects (EADDRINUSE) when the port is taken', async () => {
    const fx = node();
    const { port } = await plainServer(() => {});
    let listener: TcpListener | undefined;
    const code = await fx.onCore(0, async () => {
      listener = fx.nm().tcpListen(port, () => ({ receive: () => {} }));
      try {
        await listener.listening;
        return 'listening';
      } catch (e) {
        fx.checkResumed(0, 'after rejected listening');
        return (e as Error & { code?: string }).code;
      }
    });
    expect(code).toBe('EADDRINUSE');
    expect(fx.violations).toEqual([]);
  });
});

describe('hosted NetworkManager: UDP, interfaces, manifest', () => {
  it('UDP echo between two bound sockets is byte-exact, receive on the binding core', async () => {
    const fx = node();
    const echoed = new Map<number, string>();
    const sentHashes = new Map<number, string>();
    const b = await fx.onCore(1, async () => {
      const sock: UdpSocket = fx.nm().udpBind(0, (from, data) => {
        fx.check(1, 'udp echo receive');
        sock.sendTo(from.address, from.port, data);
      });
      await sock.bound;
      return sock;
    });
    const a = await fx.onCore(0, async () => {
      const sock = fx.nm().udpBind(0, (from, data) => {
        fx.check(0, 'udp receive');
        expect(from).toEqual({ address: '127.0.0.1', port: b.port });
        const bytes = data.toUint8Array();
        echoed.set(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), sha(bytes));
      });
      await sock.bound;
      return sock;
    });
    expect(a.port).toBeGreaterThan(0);
    expect(b.port).toBeGreaterThan(0);
    const next = lcg(3);
    const count = 40;
    await fx.onCore(0, () => {
      for (let i = 0; i < count; i++) {
        const bytes = pseudoRandomBytes(next(4, 1400), i + 1);
        new DataView(bytes.buffer).setUint32(0, i);
        sentHashes.set(i, sha(bytes));
        // Every third datagram is a 2-element chain: sendTo gathers it into one datagram.
        const cut = i % 3 === 0 ? 4 : bytes.length;
        const buf = IOBuf.wrap(bytes.subarray(0, cut));
        if (cut < bytes.length) buf.appendChain(IOBuf.wrap(bytes.subarray(cut)));
        a.sendTo('127.0.0.1', b.port, buf);
      }
    });
    await until(() => echoed.size === count, 'all datagrams echoed');
    expect(echoed).toEqual(sentHashes);
    await fx.onCore(0, () => a.close());
    expect(() => a.sendTo('127.0.0.1', b.port, IOBuf.copyOf('x'))).toThrow(/closed/);
    expect(fx.violations).toEqual([]);
    expect(fx.failures).toEqual([]);
  });

  it('interfaces() lists IPv4 loopback', async () => {
    const fx = node();
    const list = await fx.onCore(0, () => fx.nm().interfaces());
    expect(list.some((i) => i.address === '127.0.0.1')).toBe(true);
    for (const i of list) expect(i.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('manifest is valid, hosted-only, and its options are strict with defaults', () => {
    expect(validateManifest('@ebbrt/network-manager-hosted', manifest).implements).toBe('NetworkManager');
    expect(manifest.targets).toEqual(['hosted']);
    expect(hostedNetworkOptionsSchema.parse({})).toEqual({
      host: '127.0.0.1',
      sendWindow: 256 * 1024,
      receiveBuffer: 1024 * 1024,
      noDelay: true,
      acceptCore: 'round-robin',
    });
    expect(() => hostedNetworkOptionsSchema.parse({ hots: '0.0.0.0' })).toThrow();
    expect(() => hostedNetworkOptionsSchema.parse({ sendWindow: 100 })).toThrow();
  });
});
