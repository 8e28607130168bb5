/**
 * Test helpers: an in-memory TcpConnection to drive the connection state
 * machine directly, and a hosted node (EventManager + hosted NetworkManager, as
 * in network-manager-lwip's echo-app test) to run the real server on a real
 * ephemeral port for real clients.
 */
import { connect } from 'node:net';
import { EbbRef, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { IOBuf, SystemEbbIds, type EventManagerRoot, type NetworkManager, type TcpConnection } from '@ebbrt/interfaces';
import { HostedNetworkManager, hostedNetworkOptionsSchema, manifest as hostedManifest } from '@ebbrt/network-manager-hosted';
import { MemcachedService, startMemcached, type MemcachedOptions, type MemcachedServer } from '../src/index.js';
import type { MemcachedConnection } from '../src/server/connection.js';

/** A TcpConnection that records what the server sends (as byte arrays) and whether it closed. */
export class FakeTcp implements TcpConnection {
  readonly localPort = 11211;
  readonly remoteAddress = '10.0.0.9';
  readonly remotePort = 40000;
  readonly core = 0;
  /** One entry per sendQueued call. */
  readonly sends: Uint8Array[] = [];
  /** The chains as sent (kept unreleased when `keepChains`), for zero-copy checks. */
  readonly chains: IOBuf[] = [];
  closed = false;
  constructor(private readonly keepChains = false) {}
  send(data: IOBuf): void {
    this.sendQueued(data);
  }
  sendQueued(data: IOBuf): void {
    if (this.closed) throw new Error('sendQueued after close');
    this.sends.push(data.toUint8Array());
    if (this.keepChains) this.chains.push(data);
    else data.releaseChain();
  }
  sendWindowRemaining(): number {
    return 1 << 20;
  }
  bindCore(): void {}
  setNoDelay(): void {}
  setKeepAlive(): void {}
  pauseReceive(): void {}
  resumeReceive(): void {}
  shutdown(): void {}
  close(): void {
    this.closed = true;
  }
  abort(): void {
    this.closed = true;
  }
  /** Everything sent so far, concatenated. */
  output(): Buffer {
    return Buffer.concat(this.sends);
  }
}

/** A client of an in-memory service: feeds byte chunks (each a separate receive) and reads replies. */
export class FakeClient {
  readonly tcp: FakeTcp;
  readonly handler: MemcachedConnection;
  constructor(readonly service: MemcachedService, keepChains = false) {
    this.tcp = new FakeTcp(keepChains);
    this.handler = service.accept(this.tcp);
  }
  /** Delivers each chunk as one receive (a chunk may itself be a multi-element chain). */
  feed(...chunks: Array<Uint8Array | string | IOBuf>): this {
    for (const c of chunks) {
      if (this.tcp.closed) break;
      this.handler.receive(this.tcp, c instanceof IOBuf ? c : IOBuf.copyOf(c));
    }
    return this;
  }
  text(): string {
    return this.tcp.output().toString('latin1');
  }
}

/** A fixed, settable clock (Unix ms). */
export function fakeClock(startMs = 1_700_000_000_000): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => (t += ms), set: (ms) => (t = ms) };
}

/** A chain of `parts` (each part one element). */
export function chainOf(parts: Array<Uint8Array | string>): IOBuf {
  let head: IOBuf | null = null;
  for (const p of parts) {
    const e = IOBuf.copyOf(p);
    if (head === null) head = e;
    else head.appendChain(e);
  }
  return head ?? IOBuf.allocate(0);
}

export interface HostedMemcached {
  server: MemcachedServer;
  port: number;
  failures: unknown[];
  close(): void;
}

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);

/** A hosted node (node:net) running memcached on an ephemeral 127.0.0.1 port. */
export async function startHostedMemcached(options: MemcachedOptions = {}, cores = 2): Promise<HostedMemcached> {
  const node = new NodeContext({ id: 0, numCores: cores, target: 'hosted' });
  const log = (): void => {};
  const em = eventManagerManifest.create({ id: SystemEbbIds.EventManager, node, target: 'hosted', log }, eventManagerManifest.options!.parse({})) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, em);
  const root = hostedManifest.create({ id: SystemEbbIds.NetworkManager, node, target: 'hosted', log }, hostedNetworkOptionsSchema.parse({})) as HostedNetworkManager;
  node.install(SystemEbbIds.NetworkManager, root);
  const failures: unknown[] = [];
  em.onEventFailure((f) => failures.push(f));
  try {
    const server = await new Promise<MemcachedServer>((resolve, reject) =>
      em.post(0, () => startMemcached(nmRef.deref(), { port: 0, threads: cores, ...options }).then(resolve, reject)),
    );
    return {
      server,
      port: server.port,
      failures,
      close() {
        em.post(0, () => server.close());
        root.closeAll();
        em.shutdown();
      },
    };
  } catch (error) {
    root.closeAll();
    em.shutdown();
    throw error;
  }
}

/**
 * Opens a TCP connection, writes `request` (optionally in several writes), and
 * collects the reply until `done(bytes)` says it is complete, the server closes,
 * or `timeoutMs` passes (then it rejects with what arrived so far).
 */
export function exchange(
  port: number,
  request: Uint8Array | Uint8Array[],
  done: (reply: Buffer) => boolean,
  timeoutMs = 5000,
): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    let finished = false;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(got), closed });
    };
    const timer = setTimeout(() => {
      finished = true;
      socket.destroy();
      reject(new Error(`no complete reply within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(got).toString('latin1').slice(0, 400))}`));
    }, timeoutMs);
    socket.on('data', (b: Buffer) => {
      got.push(b);
      if (done(Buffer.concat(got))) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e) => {
      if (!finished) {
        finished = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    socket.on('connect', () => {
      for (const part of Array.isArray(request) ? request : [request]) socket.write(part);
    });
  });
}

/** Splits bytes into 1..n chunks at random cut points; each chunk becomes a chain of 1-3 elements. */
export function segment(bytes: Uint8Array, cuts: number[]): IOBuf[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) pieces.push(bytes.subarray(at, p));
    at = Math.max(at, p);
  }
  const chunks: IOBuf[] = [];
  for (let i = 0; i < pieces.length; i++) {
    // Some receives carry a two-element chain, to exercise chains as well as separate receives.
    if (i + 1 < pieces.length && pieces[i]!.length % 2 === 0) {
      chunks.push(chainOf([pieces[i]!, pieces[i + 1]!]));
      i++;
    } else chunks.push(chainOf([pieces[i]!]));
  }
  return chunks;
}
