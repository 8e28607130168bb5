import type { Socket } from 'node:net';
import { cpu } from '@ebbrt/core-translation';
import { IOBuf, UsageError, type TcpConnection, type TcpConnectionInfo, type TcpHandler } from '@ebbrt/interfaces';
import type { HostContext } from './host-context.js';

/** Thrown by {@link TcpConnection.send} when the chain does not fit the send window. */
/** Chains up to this size are written as one copied buffer (see writeChain). */
const COALESCE_BYTES = 16 * 1024;

export class SendWindowError extends UsageError {
  constructor(
    readonly length: number,
    readonly window: number,
  ) {
    super(`send of ${length} bytes exceeds the send window (${window} bytes left); use sendQueued`);
  }
}

/**
 * What Node reported for a connection, waiting to be delivered on its core. Received bytes are
 * the Buffer itself (no wrapper object per read: the per-request path of a request/response
 * server is one read and one write).
 */
type Arrival =
  | Buffer
  | { readonly kind: 'accept'; readonly accept: (connection: TcpConnection) => TcpHandler }
  | { readonly kind: 'connect' }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly error: Error }
  | { readonly kind: 'drain' };

/** Bytes waiting for the send window, and the chain to release once they are written. */
interface Pending {
  view: Uint8Array;
  release: IOBuf | undefined;
}

type State = 'open' | 'shutdown' | 'closed';

/**
 * A TCP connection over a node:net Socket. Node's callbacks only append to the
 * connection's inbox and post one drain event to its core; the drain event
 * delivers arrivals in order, so events keep their order across bindCore.
 */
export class HostedTcpConnection implements TcpConnection {
  private handler: TcpHandler | undefined;
  private coreIndex: number;
  private state: State = 'open';
  /** No more handler callbacks (close, abort, or aborted delivered). */
  private silenced = false;
  private inbox: Arrival[] = [];
  private inboxHead = 0;
  private inboxBytes = 0;
  private paused = false;
  /** pauseReceive() called: arrivals stay in the inbox, the socket is paused. */
  private appPaused = false;
  private drainPosted = false;
  private readonly pending: Pending[] = [];
  private readonly window: number;
  private readonly drainEvent = () => {
    this.drainPosted = false;
    this.deliverInbox();
  };

  constructor(
    private readonly host: HostContext,
    readonly socket: Socket,
    core: number,
    handler: TcpHandler | undefined,
    private readonly requestedAddress = '',
    private readonly requestedPort = 0,
  ) {
    this.coreIndex = core;
    this.handler = handler;
    this.window = Math.max(host.options.sendWindow, socket.writableHighWaterMark);
    socket.setNoDelay(host.options.noDelay);
    socket.on('data', (bytes: Buffer) => this.arrive(bytes, bytes.length));
    socket.on('end', () => this.arrive({ kind: 'end' }));
    socket.on('error', (error: Error) => {
      host.socketError(error);
      this.arrive({ kind: 'error', error });
    });
    socket.on('drain', () => this.arrive({ kind: 'drain' }));
    socket.on('close', () => this.onClose());
  }

  /** The connection as a tool shows it (the dashboard's TCP panel); read only when asked. */
  info(): TcpConnectionInfo {
    const s = this.socket;
    // Node's socket has no RFC 9293 state: an open one is established once it has a remote.
    const state = this.state === 'closed' ? 'CLOSED' : this.state === 'shutdown' ? 'FIN-WAIT-1' : s.remoteAddress === undefined ? 'SYN-SENT' : 'ESTABLISHED';
    let queued = s.writableLength;
    for (const p of this.pending) queued += p.view.byteLength;
    return {
      localAddress: unmapIpv4(s.localAddress ?? '0.0.0.0'),
      localPort: s.localPort ?? 0,
      remoteAddress: this.remoteAddress,
      remotePort: s.remotePort ?? this.requestedPort,
      state,
      core: this.coreIndex,
      sendQueued: queued,
      receiveQueued: this.inboxBytes,
    };
  }

  /** Bytes Node has read from and written to the socket. */
  get bytes(): { read: number; written: number } {
    return { read: this.socket.bytesRead, written: this.socket.bytesWritten };
  }

  // ------------------------------------------------------------ Node side (no Ebb code here)

  /** Records an arrival from a Node callback and makes sure the core will deliver it. */
  arrive(arrival: Arrival, bytes = 0): void {
    if (this.silenced) return;
    this.inbox.push(arrival);
    if (bytes > 0) {
      this.inboxBytes += bytes;
      if (!this.paused && this.inboxBytes > this.host.options.receiveBuffer) {
        this.paused = true;
        this.socket.pause();
      }
    }
    this.postDrain();
  }

  private postDrain(): void {
    if (this.drainPosted) return;
    this.drainPosted = true;
    this.host.post(this.coreIndex, this.drainEvent);
  }

  private onClose(): void {
    this.host.forget(this);
    // Whatever never reached the socket is dropped; give its buffers back on the core.
    if (this.pending.length > 0) this.dropPending(true);
  }

  // ------------------------------------------------------------ core side

  /** Delivers queued arrivals, in order, on the connection's core. */
  private deliverInbox(): void {
    const core = this.coreIndex;
    if (cpu.current?.index !== core) {
      this.postDrain();
      return;
    }
    while (this.inboxHead < this.inbox.length) {
      if (this.silenced) break;
      if (this.appPaused && this.isReceiveArrival(this.inbox[this.inboxHead]!)) return;
      if (this.coreIndex !== core) {
        // bindCore moved the connection: the rest is delivered on the new core.
        this.postDrain();
        return;
      }
      const arrival = this.inbox[this.inboxHead]!;
      this.inbox[this.inboxHead++] = undefined as never;
      try {
        this.deliver(arrival);
      } catch (error) {
        if (this.inboxHead < this.inbox.length) this.postDrain();
        throw error;
      }
    }
    this.inbox = [];
    this.inboxHead = 0;
    if (this.paused && !this.silenced && !this.appPaused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private deliver(arrival: Arrival): void {
    if (arrival instanceof Uint8Array) {
      this.inboxBytes -= arrival.length;
      this.handler?.receive(this, IOBuf.wrap(arrival));
      return;
    }
    switch (arrival.kind) {
      case 'accept':
        try {
          this.handler = arrival.accept(this);
        } catch (error) {
          this.abort();
          throw error;
        }
        return;
      case 'connect':
        this.handler?.connected?.(this);
        return;
      case 'end':
        this.handler?.closed?.(this);
        return;
      case 'error':
        this.silenced = true;
        this.state = 'closed';
        this.dropPending();
        this.handler?.aborted?.(this, arrival.error);
        return;
      case 'drain':
        if (this.state !== 'open') return;
        this.flush();
        if (this.sendWindowRemaining() > 0) this.handler?.sendWindowIncreased?.(this);
        return;
    }
  }

  // ------------------------------------------------------------ TcpConnection

  get core(): number {
    return this.coreIndex;
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get remoteAddress(): string {
    return unmapIpv4(this.socket.remoteAddress ?? this.requestedAddress);
  }

  get remotePort(): number {
    return this.socket.remotePort ?? this.requestedPort;
  }

  sendWindowRemaining(): number {
    if (this.state !== 'open' || this.socket.destroyed || this.pending.length > 0) return 0;
    return Math.max(0, this.window - this.socket.writableLength);
  }

  send(data: IOBuf): void {
    this.checkSendable('send');
    const length = data.computeChainDataLength();
    const room = this.sendWindowRemaining();
    if (length > room) throw new SendWindowError(length, room);
    this.writeChain(data);
  }

  sendQueued(data: IOBuf): void {
    this.checkSendable('sendQueued');
    if (this.pending.length === 0 && data.computeChainDataLength() <= this.sendWindowRemaining()) {
      this.writeChain(data);
      return;
    }
    let last: Pending | undefined;
    data.forEachElement((element) => {
      if (element.length === 0) return;
      last = { view: element.data(), release: undefined };
      this.pending.push(last);
    });
    if (last === undefined) data.releaseChain();
    else last.release = data;
    this.flush();
  }

  private isReceiveArrival(a: Arrival): boolean {
    return a instanceof Uint8Array || a.kind === 'end';
  }

  pauseReceive(): void {
    if (this.appPaused) return;
    this.appPaused = true;
    // `paused` too: the socket is resumed by whichever of resumeReceive and deliverInbox empties
    // the inbox last (with data left in it, resumeReceive only posts the drain).
    this.paused = true;
    this.socket.pause();
  }

  resumeReceive(): void {
    if (!this.appPaused) return;
    this.appPaused = false;
    if (this.inboxHead < this.inbox.length) this.postDrain();
    else if (!this.silenced) {
      this.paused = false;
      this.socket.resume();
    }
  }

  setKeepAlive(enable: boolean, idleMs?: number): void {
    if (typeof enable !== 'boolean') throw new UsageError(`setKeepAlive: expected a boolean, got ${typeof enable}`);
    if (idleMs !== undefined && !(Number.isFinite(idleMs) && idleMs >= 0)) throw new RangeError(`setKeepAlive: idleMs must be a non-negative number, got ${idleMs}`);
    this.socket.setKeepAlive(enable, idleMs ?? 0);
  }

  setNoDelay(noDelay: boolean): void {
    if (typeof noDelay !== 'boolean') throw new UsageError(`setNoDelay: expected a boolean, got ${typeof noDelay}`);
    this.socket.setNoDelay(noDelay);
  }

  bindCore(core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.host.numCores) {
      throw new RangeError(`bindCore: node ${this.host.nodeId} has no core ${core} (it has ${this.host.numCores})`);
    }
    this.coreIndex = core;
  }

  shutdown(): void {
    if (this.state !== 'open') return;
    this.state = 'shutdown';
    this.writePendingIgnoringWindow();
    this.socket.end();
  }

  close(): void {
    if (this.state === 'closed' && this.silenced) return;
    if (this.state === 'open') this.writePendingIgnoringWindow();
    this.state = 'closed';
    this.silence();
    const socket = this.socket;
    if (socket.destroyed) return;
    // Flush what was sent, send FIN, then let go of the socket (lwIP's tcp_close).
    socket.end(() => socket.destroy());
  }

  abort(): void {
    this.state = 'closed';
    this.silence();
    this.dropPending();
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  // ------------------------------------------------------------ helpers

  private checkSendable(op: string): void {
    if (this.state !== 'open' || this.socket.destroyed) {
      throw new UsageError(`${op} on a TCP connection that is ${this.state === 'open' ? 'closed' : this.state}`);
    }
  }

  private silence(): void {
    this.silenced = true;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxBytes = 0;
  }

  /**
   * Writes `data`. A small chain (a batch of replies: headers plus stored values) is copied into one
   * buffer and released at once: one write, no completion callback, no event to release it later,
   * which measured cheaper than a writev of views. Larger chains go out as views (no copy) and are
   * released once Node is done with them.
   */
  private writeChain(data: IOBuf): void {
    const socket = this.socket;
    const total = data.computeChainDataLength();
    if (total <= COALESCE_BYTES) {
      if (total > 0) socket.write(flatten(data, total));
      data.releaseChain();
      return;
    }
    const count = data.countChainElements();
    if (count === 1) {
      if (data.length === 0) data.releaseChain();
      else socket.write(data.data(), this.releaser(data));
      return;
    }
    const views: Uint8Array[] = [];
    data.forEachElement((element) => {
      if (element.length > 0) views.push(element.data());
    });
    if (views.length === 0) {
      data.releaseChain();
      return;
    }
    socket.cork();
    for (let i = 0; i < views.length - 1; i++) socket.write(views[i]!);
    socket.write(views[views.length - 1]!, this.releaser(data));
    socket.uncork();
  }

  /** A write callback that releases `chain` on the connection's core (its storage may have a hook). */
  private releaser(chain: IOBuf): () => void {
    return () => this.host.post(this.coreIndex, () => chain.releaseChain());
  }

  /** Moves pending bytes into the socket while the window has room. */
  private flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    let room = this.window - this.socket.writableLength;
    if (room <= 0) return;
    const socket = this.socket;
    socket.cork();
    while (pending.length > 0 && room > 0) {
      const head = pending[0]!;
      if (head.view.length <= room) {
        pending.shift();
        room -= head.view.length;
        if (head.release === undefined) socket.write(head.view);
        else socket.write(head.view, this.releaser(head.release));
      } else {
        socket.write(head.view.subarray(0, room));
        head.view = head.view.subarray(room);
        room = 0;
      }
    }
    socket.uncork();
  }

  private writePendingIgnoringWindow(): void {
    const pending = this.pending;
    if (pending.length === 0 || this.socket.destroyed) return;
    this.socket.cork();
    for (const p of pending) {
      if (p.release === undefined) this.socket.write(p.view);
      else this.socket.write(p.view, this.releaser(p.release));
    }
    pending.length = 0;
    this.socket.uncork();
  }

  /** Releases chains that will never be written; from a Node callback it posts the release to the core. */
  private dropPending(fromNode = false): void {
    const chains = this.pending.flatMap((p) => (p.release === undefined ? [] : [p.release]));
    this.pending.length = 0;
    if (chains.length === 0) return;
    const release = () => {
      for (const chain of chains) chain.releaseChain();
    };
    if (fromNode) this.host.post(this.coreIndex, release);
    else release();
  }
}

/**
 * The chain's `total` bytes in one Buffer (from Node's pool when small). Walks the ring itself
 * and copies short runs byte by byte: a reply is a 24 B header and a small value, and a
 * subarray per element (for TypedArray.set) cost more than those copies in the hosted profile.
 */
function flatten(data: IOBuf, total: number): Buffer {
  const flat = Buffer.allocUnsafe(total);
  let at = 0;
  let e = data;
  do {
    const n = e.length;
    if (n > 0) {
      const bytes = e.bytes;
      const off = e.offset;
      if (n <= 64) for (let i = 0; i < n; i++) flat[at + i] = bytes[off + i]!;
      else flat.set(bytes.subarray(off, off + n), at);
      at += n;
    }
    e = e.next;
  } while (e !== data);
  return flat;
}

/** "::ffff:127.0.0.1" -> "127.0.0.1" (a dual-stack socket's view of an IPv4 peer). */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
