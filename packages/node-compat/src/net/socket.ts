import { Duplex } from 'node:stream';
import { IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import type { NodeNet } from './net.js';
import type { Timeout } from '../timers.js';
import { abortCode, systemError } from './errors.js';
import { guardedEmit } from '../process/uncaught.js';

export interface SocketOptions {
  allowHalfOpen?: boolean;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * `net.Socket` over a `TcpConnection` of the node's NetworkManager: a real `stream.Duplex`, so
 * `http.Server`, `pipe`, `for await` and every library written for net sockets take it as one.
 * Received bytes are copied out of the stack's buffers (which are released at once) into Buffers;
 * written chunks go to `sendQueued` without a copy. A write's callback waits while the stack's send
 * window is full (back-pressure). Receive back-pressure is Node's own: when `push()` returns false
 * (the stream holds its highWaterMark, e.g. after `pause()`, a full `pipe` destination, or a
 * 'readable' consumer that stopped reading) the connection's `pauseReceive()` holds further data
 * in the stack, whose advertised window then closes; `_read()` (the consumer wants more) resumes it.
 */
export class Socket extends Duplex {
  connection: TcpConnection | undefined;
  connecting = false;
  bytesRead = 0;
  private written = 0;
  private readonly held: WriteCallback[] = [];
  private readonly beforeConnect: { data: IOBuf; callback: WriteCallback }[] = [];
  private idle: Timeout | undefined;
  private idleMs = 0;
  private reset = false;
  /** pauseReceive() is in force on the connection (the stream is at its highWaterMark). */
  private receivePaused = false;
  /** setNoDelay/setKeepAlive asked for before the connection exists (outbound connect). */
  private noDelay: boolean | undefined;
  private keepAlive: { enable: boolean; idleMs: number | undefined } | undefined;
  private localAddressValue = '0.0.0.0';
  timeout: number | undefined;
  server: unknown;

  constructor(
    private readonly net: NodeNet,
    options: SocketOptions = {},
  ) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, decodeStrings: true, emitClose: true, autoDestroy: true });
  }

  /** A listener that throws is the app's uncaught exception (it may run from a host tick). */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    return guardedEmit(this.net.faults, () => super.emit(event, ...args));
  }

  /** Adopts an accepted connection (its callbacks run on the app's core from now on). */
  attach(connection: TcpConnection): this {
    this.connection = connection;
    this.localAddressValue = this.net.localAddress();
    return this;
  }

  /** The stack's callbacks for this socket's connection (a Duplex has its own `closed`). */
  readonly handler: TcpHandler = {
    receive: (c, data) => this.onReceive(c, data),
    connected: (c) => this.onConnected(c),
    closed: () => this.onPeerClosed(),
    aborted: (c, reason) => this.onAborted(c, reason),
    sendWindowIncreased: () => this.releaseHeld(),
  };

  // ------------------------------------------------------------ TcpHandler

  private onReceive(_connection: TcpConnection, data: IOBuf): void {
    const length = data.computeChainDataLength();
    const buf = Buffer.allocUnsafe(length);
    let at = 0;
    data.forEachElement((e) => {
      buf.set(e.data(), at);
      at += e.length;
    });
    data.releaseChain();
    if (this.destroyed || length === 0) return;
    this.bytesRead += length;
    this.touch();
    if (!this.push(buf)) this.setReceivePaused(true);
  }

  private onConnected(connection: TcpConnection): void {
    this.connecting = false;
    this.connection = connection;
    this.localAddressValue = this.net.localAddress();
    this.applyOptions(connection);
    if (this.receivePaused) connection.pauseReceive();
    const queued = this.beforeConnect.splice(0);
    for (const w of queued) this.send(w.data, w.callback);
    this.touch();
    this.emit('connect');
    this.emit('ready');
  }

  private onPeerClosed(): void {
    // The peer's FIN: our readable side ends (and, without allowHalfOpen, Duplex ends ours).
    this.push(null);
  }

  private onAborted(_connection: TcpConnection, reason: Error): void {
    const code = abortCode(reason, this.connecting);
    const wasConnecting = this.connecting;
    this.connecting = false;
    this.reset = true;
    this.connection = undefined;
    for (const w of this.beforeConnect.splice(0)) w.data.releaseChain();
    const detail = this.remoteAddress === undefined ? '' : `${this.remoteAddress}:${this.remotePort}`;
    this.fail(systemError(code, wasConnecting ? 'connect' : 'read', detail, { address: this.remoteAddress, port: this.remotePort }));
  }

  // ------------------------------------------------------------ Duplex

  override _read(): void {
    // Data is pushed as it arrives; this only ends a pause that a full buffer started.
    if (this.receivePaused) this.setReceivePaused(false);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.queueOrSend(IOBuf.wrap(chunk), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    // One chain for a batch (an HTTP head and body): one sendQueued, often one segment.
    const head = IOBuf.wrap(chunks[0]!.chunk);
    for (let i = 1; i < chunks.length; i++) head.appendChain(IOBuf.wrap(chunks[i]!.chunk));
    this.queueOrSend(head, callback);
  }

  override _final(callback: WriteCallback): void {
    const c = this.connection;
    if (c !== undefined) {
      try {
        c.shutdown();
      } catch (e) {
        return callback(e as Error);
      }
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.idle?.close();
    const c = this.connection;
    this.connection = undefined;
    for (const w of this.beforeConnect.splice(0)) w.data.releaseChain();
    this.releaseHeld();
    if (c !== undefined && !this.reset) {
      // destroy() is close(2): what was written still goes, then FIN; resetAndDestroy() sends RST.
      try {
        c.close();
      } catch {
        // already gone
      }
    }
    this.net.forget(this);
    callback(error);
  }

  // ------------------------------------------------------------ net.Socket

  connect(...args: unknown[]): this {
    const { port, host, listener } = this.net.connectArgs(args);
    if (listener !== undefined) this.once('connect', listener);
    this.connecting = true;
    this.remoteAddressValue = host;
    this.remotePortValue = port;
    let address: string;
    try {
      address = this.net.dns.resolve4(host, 'connect');
    } catch (e) {
      this.connecting = false;
      this.net.ebbs.events.deref().spawn(() => this.fail(e as Error), { async: true });
      return this;
    }
    this.remoteAddressValue = address;
    try {
      this.connection = this.net.ebbs.network.deref().tcpConnect(address, port, this.handler);
    } catch (e) {
      this.connecting = false;
      const err = e as Error;
      this.net.ebbs.events.deref().spawn(() => this.fail(systemError(abortCode(err, true), 'connect', `${address}:${port} (${err.message})`)), { async: true });
    }
    return this;
  }

  private remoteAddressValue: string | undefined;
  private remotePortValue: number | undefined;

  get remoteAddress(): string | undefined {
    return this.connection?.remoteAddress ?? this.remoteAddressValue;
  }
  get remotePort(): number | undefined {
    return this.connection?.remotePort ?? this.remotePortValue;
  }
  get remoteFamily(): string | undefined {
    return this.remoteAddress === undefined ? undefined : 'IPv4';
  }
  get localAddress(): string {
    return this.localAddressValue;
  }
  get localPort(): number | undefined {
    return this.connection?.localPort;
  }
  get bytesWritten(): number {
    return this.written;
  }
  get pending(): boolean {
    return this.connection === undefined || this.connecting;
  }
  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    const c = this.connection;
    return c === undefined ? {} : { address: this.localAddressValue, family: 'IPv4', port: c.localPort };
  }

  /** An idle timeout on the node's Timer: 'timeout' after `ms` without traffic (0 turns it off). */
  setTimeout(ms: number, callback?: () => void): this {
    this.idle?.close();
    this.idle = undefined;
    this.idleMs = ms;
    this.timeout = ms > 0 ? ms : undefined;
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.touch();
    return this;
  }

  /** TCP_NODELAY on the connection (Node's default argument is true); kept until connected. */
  setNoDelay(noDelay = true): this {
    this.noDelay = Boolean(noDelay);
    if (this.connection !== undefined && !this.connecting) this.connection.setNoDelay(this.noDelay);
    return this;
  }
  /**
   * Keepalive probes on the connection after `initialDelay` ms idle (0 or absent: the stack's
   * default idle time, as Node leaves the OS default); kept until connected.
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    const ms = Number(initialDelay);
    const ka = { enable: Boolean(enable), idleMs: Number.isFinite(ms) && ms > 0 ? ms : undefined };
    this.keepAlive = ka;
    if (this.connection !== undefined && !this.connecting) this.connection.setKeepAlive(ka.enable, ka.idleMs);
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  /** Ends once what was written is sent (what http.Server calls after the last response). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes with a TCP RST. */
  resetAndDestroy(): this {
    const c = this.connection;
    this.reset = true;
    this.connection = undefined;
    c?.abort();
    this.destroy();
    return this;
  }

  // ------------------------------------------------------------ helpers

  /**
   * Ends the socket with a network error. With no 'error' listener Node would throw it from a
   * tick (and exit the process); here that process is the front-end of every node, so the error
   * is reported on the node's console instead and the socket just closes.
   */
  private fail(error: Error): void {
    if (this.listenerCount('error') > 0) {
      this.destroy(error);
      return;
    }
    this.net.warn(`net.Socket ${this.remoteAddress ?? '?'}:${this.remotePort ?? '?'}: ${error.message} (no 'error' listener: Node would exit here; the socket is closed)`);
    this.destroy();
  }

  private queueOrSend(data: IOBuf, callback: WriteCallback): void {
    if (this.connection === undefined && this.connecting) {
      this.beforeConnect.push({ data, callback });
      return;
    }
    this.send(data, callback);
  }

  private send(data: IOBuf, callback: WriteCallback): void {
    const c = this.connection;
    if (c === undefined) {
      data.releaseChain();
      callback(systemError('EPIPE', 'write', 'the connection is closed'));
      return;
    }
    const n = data.computeChainDataLength();
    try {
      c.sendQueued(data);
    } catch (e) {
      callback(systemError('EPIPE', 'write', (e as Error).message));
      return;
    }
    this.written += n;
    this.touch();
    // Back-pressure: with the window full, the write completes when it opens again.
    if (c.sendWindowRemaining() > 0) callback();
    else this.held.push(callback);
  }

  private applyOptions(c: TcpConnection): void {
    if (this.noDelay !== undefined) c.setNoDelay(this.noDelay);
    if (this.keepAlive !== undefined) c.setKeepAlive(this.keepAlive.enable, this.keepAlive.idleMs);
  }

  private setReceivePaused(paused: boolean): void {
    this.receivePaused = paused;
    const c = this.connection;
    // While connecting, onConnected applies it; a destroyed socket's connection is gone.
    if (c === undefined || this.connecting) return;
    if (paused) c.pauseReceive();
    else c.resumeReceive();
  }

  private releaseHeld(): void {
    const held = this.held.splice(0);
    for (const cb of held) cb();
  }

  private touch(): void {
    if (this.idleMs <= 0 || this.destroyed) return;
    if (this.idle !== undefined) this.idle.refresh();
    else this.idle = this.net.timers.setTimeout(() => {
      this.idle = undefined;
      this.emit('timeout');
    }, this.idleMs);
  }
}
