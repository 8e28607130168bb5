import * as realNet from 'node:net';
import type { NodeEbbs } from '../host.js';
import type { NodeDns } from '../dns.js';
import type { NodeTimers } from '../timers.js';
import { Server, type ServerOptions } from './server.js';
import { Socket, type SocketOptions } from './socket.js';
import type { AppFaults } from '../process/uncaught.js';

/** One app's `node:net`: its sockets and servers over the node's NetworkManager. */
export class NodeNet {
  private readonly live = new Set<Socket>();
  private readonly servers = new Set<Server>();
  /** Where a throwing listener on a socket or server goes (set by the runtime). */
  faults: AppFaults | undefined;

  constructor(
    readonly ebbs: NodeEbbs,
    readonly timers: NodeTimers,
    readonly dns: NodeDns,
    /** A line on the node's console (errors nobody listens for). */
    readonly warn: (line: string) => void = () => undefined,
  ) {}

  localAddress(): string {
    return this.dns.ownAddress();
  }

  forget(socket: Socket): void {
    this.live.delete(socket);
  }

  /** Sockets the app opened that are still open. */
  openSockets(): number {
    return this.live.size;
  }

  createServer(options?: ServerOptions | ((s: Socket) => void), listener?: (s: Socket) => void): Server {
    const server = typeof options === 'function' ? new Server(this, {}, options) : new Server(this, options ?? {}, listener);
    this.servers.add(server);
    return server;
  }

  /** The app died: its servers stop listening and its connections close, as a process exit would. */
  closeAll(): void {
    for (const server of this.servers) {
      for (const socket of server.connections()) socket.destroy();
      try {
        server.close();
      } catch {
        // not listening
      }
    }
    this.servers.clear();
    for (const socket of [...this.live]) socket.destroy();
  }

  newSocket(options?: SocketOptions): Socket {
    const s = new Socket(this, options);
    this.live.add(s);
    return s;
  }

  /** `net.connect(port, host?, cb?)` / `net.connect({ port, host }, cb?)`. */
  connect(...args: unknown[]): Socket {
    const first = args[0];
    const options = first !== null && typeof first === 'object' ? (first as SocketOptions & { timeout?: number }) : {};
    const socket = this.newSocket(options);
    if (typeof options.timeout === 'number') socket.setTimeout(options.timeout);
    return socket.connect(...args);
  }

  connectArgs(args: unknown[]): { port: number; host: string; listener: (() => void) | undefined } {
    const listener = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as () => void) : undefined;
    const first = args[0];
    let port: unknown;
    let host: unknown;
    if (first !== null && typeof first === 'object') {
      const o = first as { port?: unknown; host?: unknown; path?: unknown };
      if (o.path !== undefined) throw new TypeError('connect({ path }): IPC (Unix domain) sockets are not supported on an EbbRT back-end node');
      port = o.port;
      host = o.host;
    } else {
      port = first;
      host = typeof args[1] === 'string' ? args[1] : undefined;
    }
    const n = Number(port);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) {
      throw Object.assign(new RangeError(`Port should be > 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    return { port: n, host: typeof host === 'string' && host !== '' ? host : 'localhost', listener };
  }

  /** The `node:net` module object. */
  module(): Record<string, unknown> {
    const net = this;
    // `new net.Socket()` and `net.Socket()` both work, bound to this app.
    function SocketCtor(this: unknown, options?: SocketOptions): Socket {
      return net.newSocket(options);
    }
    SocketCtor.prototype = Socket.prototype;
    Object.defineProperty(SocketCtor, Symbol.hasInstance, { value: (v: unknown) => v instanceof Socket });
    function ServerCtor(this: unknown, options?: ServerOptions | ((s: Socket) => void), listener?: (s: Socket) => void): Server {
      return net.createServer(options, listener);
    }
    ServerCtor.prototype = Server.prototype;
    Object.defineProperty(ServerCtor, Symbol.hasInstance, { value: (v: unknown) => v instanceof Server });
    return {
      Socket: SocketCtor,
      Stream: SocketCtor,
      Server: ServerCtor,
      createServer: this.createServer.bind(this),
      connect: this.connect.bind(this),
      createConnection: this.connect.bind(this),
      isIP: realNet.isIP,
      isIPv4: realNet.isIPv4,
      isIPv6: realNet.isIPv6,
      BlockList: realNet.BlockList,
      SocketAddress: realNet.SocketAddress,
      getDefaultAutoSelectFamily: () => false,
      setDefaultAutoSelectFamily: () => undefined,
    };
  }
}
