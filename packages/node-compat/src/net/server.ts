import { EventEmitter } from 'node:events';
import type { TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';
import type { NodeNet } from './net.js';
import { Socket } from './socket.js';
import { systemError } from './errors.js';
import { guardedEmit } from '../process/uncaught.js';

export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
}

/**
 * `net.Server` over `NetworkManager.tcpListen`. Accepted connections are bound to the app's core
 * (whichever core the stack steered them to) and emitted there as 'connection'. `close()` stops
 * accepting; 'close' follows when the last connection has ended, as in Node.
 */
export class Server extends EventEmitter {
  private listener: TcpListener | undefined;
  private readonly sockets = new Set<Socket>();
  private closing = false;
  listening = false;
  maxConnections: number | undefined;
  private host = '0.0.0.0';
  /** Where connections go: a plain net.Server emits them itself; an http.Server is handed them. */
  onConnection: (socket: Socket) => void = (socket) => this.emit('connection', socket);

  constructor(
    private readonly net: NodeNet,
    private readonly options: ServerOptions = {},
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    if (connectionListener !== undefined) this.on('connection', connectionListener);
  }

  /** A listener that throws is the app's uncaught exception, as on a socket. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    return guardedEmit(this.net.faults, () => super.emit(event, ...args));
  }

  listen(...args: unknown[]): this {
    const { port, host, callback } = listenArgs(args);
    if (callback !== undefined) this.once('listening', callback);
    if (this.listener !== undefined) throw Object.assign(new Error('Listen method has been called more than once without closing.'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    if (host !== undefined) this.host = this.net.dns.resolve4(host, 'listen');
    const ebbs = this.net.ebbs;
    let listener: TcpListener;
    try {
      listener = ebbs.network.deref().tcpListen(port, (connection) => this.accept(connection));
    } catch (e) {
      const err = e as Error;
      const code = /EADDRINUSE|in use/.test(err.message) ? 'EADDRINUSE' : /port must be/.test(err.message) ? 'EINVAL' : 'EACCES';
      ebbs.events.deref().spawn(() => void this.emit('error', systemError(code, 'listen', `${this.host}:${port} (${err.message})`, { address: this.host, port })), { async: true });
      return this;
    }
    this.listener = listener;
    ebbs.settleOnApp(listener.listening).then(
      () => {
        this.listening = true;
        this.emit('listening');
      },
      (e: Error) => {
        this.listener = undefined;
        this.emit('error', systemError(/EADDRINUSE|in use/.test(e.message) ? 'EADDRINUSE' : 'EACCES', 'listen', `${this.host}:${port} (${e.message})`, { address: this.host, port }));
      },
    );
    return this;
  }

  private accept(connection: TcpConnection): TcpHandler {
    const socket = new Socket(this.net, { allowHalfOpen: this.options.allowHalfOpen ?? false }).attach(connection);
    socket.server = this;
    if (this.closing || (this.maxConnections !== undefined && this.sockets.size >= this.maxConnections)) {
      // Refused as Node does past maxConnections: the connection is closed at once.
      this.net.ebbs.onApp(() => socket.destroy());
      return socket.handler;
    }
    connection.bindCore(this.net.ebbs.appCore);
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.maybeClosed();
    });
    if (this.options.pauseOnConnect === true) socket.pause();
    this.net.ebbs.onApp(() => this.onConnection(socket));
    return socket.handler;
  }

  address(): { address: string; family: string; port: number } | null {
    return this.listener === undefined || !this.listening ? null : { address: this.host, family: 'IPv4', port: this.listener.port };
  }

  close(callback?: (error?: Error) => void): this {
    if (this.listener === undefined) {
      const err = Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
      if (callback !== undefined) this.net.ebbs.events.deref().spawn(() => callback(err), { async: true });
      return this;
    }
    if (callback !== undefined) this.once('close', callback);
    this.listener.close();
    this.listener = undefined;
    this.listening = false;
    this.closing = true;
    this.maybeClosed();
    return this;
  }

  getConnections(callback: (error: Error | null, count: number) => void): this {
    const n = this.sockets.size;
    this.net.ebbs.events.deref().spawn(() => callback(null, n), { async: true });
    return this;
  }

  /** Every open connection (what http.Server's closeAllConnections reaches through us). */
  connections(): readonly Socket[] {
    return [...this.sockets];
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  private maybeClosed(): void {
    if (!this.closing || this.sockets.size > 0) return;
    this.closing = false;
    this.net.ebbs.events.deref().spawn(() => void this.emit('close'), { async: true });
  }
}

/** `listen(port, host, backlog, cb)`, `listen({ port, host }, cb)`, `listen(cb)`: what Node accepts (no IPC paths). */
export function listenArgs(args: unknown[]): { port: number; host: string | undefined; callback: (() => void) | undefined } {
  const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
  let port: unknown = 0;
  let host: unknown;
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    const o = first as { port?: unknown; host?: unknown; path?: unknown };
    if (o.path !== undefined) throw new TypeError('listen({ path }): IPC (Unix domain) sockets are not supported on an EbbRT back-end node');
    port = o.port ?? 0;
    host = o.host;
  } else {
    if (typeof first === 'string' && !/^\d+$/.test(first)) throw new TypeError(`listen(${JSON.stringify(first)}): IPC (Unix domain) sockets are not supported on an EbbRT back-end node`);
    port = first ?? 0;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
  }
  return { port: n, host: typeof host === 'string' && host !== '' && host !== '::' && host !== '0.0.0.0' ? host : undefined, callback };
}
