/**
 * A second hosted NetworkManager, written against @ebbrt/interfaces alone (no code of
 * @ebbrt/network-manager-hosted): plain node:net, every connection on core 0, no UDP. It shows
 * that what the runtime needs of a front-end stack is what `NetworkManagerRoot` declares.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { nodeContextOf } from '@ebbrt/core-translation';
import {
  IOBuf,
  SystemEbbIds,
  UsageError,
  defineEbbManifest,
  isRootOf,
  type InterfaceInfo,
  type NetworkManager,
  type NetworkManagerRoot,
  type NodeInfo,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
  type UdpSocket,
} from '@ebbrt/interfaces';

class MiniConnection implements TcpConnection {
  readonly core = 0;
  handler: TcpHandler | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly nm: MiniNetworkManager,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Host callbacks enter the node as events on core 0. */
  wire(): void {
    const post = (fn: (h: TcpHandler) => void): void => this.nm.post(() => this.handler && fn(this.handler));
    this.socket.on('data', (chunk: Buffer) => post((h) => h.receive(this, IOBuf.copyOf(new Uint8Array(chunk)))));
    this.socket.on('end', () => post((h) => h.closed?.(this)));
    this.socket.on('error', (e) => post((h) => h.aborted?.(this, e)));
    this.socket.on('close', () => this.nm.forget(this.socket));
  }

  send(data: IOBuf): void {
    this.sendQueued(data);
  }

  sendQueued(data: IOBuf): void {
    const bytes = data.toUint8Array();
    data.releaseChain();
    this.socket.write(bytes);
  }

  sendWindowRemaining(): number {
    return 1 << 20;
  }

  pauseReceive(): void {
    this.socket.pause();
  }

  resumeReceive(): void {
    this.socket.resume();
  }

  setKeepAlive(enable: boolean, idleMs?: number): void {
    this.socket.setKeepAlive(enable, idleMs ?? 0);
  }

  setNoDelay(noDelay: boolean): void {
    this.socket.setNoDelay(noDelay);
  }

  bindCore(core: number): void {
    if (core !== 0) throw new UsageError('mini NetworkManager: connections stay on core 0');
  }

  shutdown(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.end();
  }

  abort(): void {
    this.socket.destroy();
  }
}

export class MiniNetworkManager implements NetworkManager, NetworkManagerRoot {
  private readonly sockets = new Set<Socket>();
  private readonly servers = new Set<Server>();

  constructor(private readonly node: NodeInfo) {}

  handleFault(): NetworkManager {
    return this;
  }

  post(fn: () => void): void {
    const em = nodeContextOf(this.node).localIdMap.get(SystemEbbIds.EventManager);
    if (!isRootOf('EventManager', em)) throw new UsageError('mini NetworkManager: no EventManager root on the node');
    em.post(0, fn);
  }

  forget(socket: Socket): void {
    this.sockets.delete(socket);
  }

  interfaces(): readonly InterfaceInfo[] {
    return [];
  }

  tcpListen(port: number, accept: (connection: TcpConnection) => TcpHandler): TcpListener {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      const conn = new MiniConnection(socket, this, socket.remoteAddress ?? '', socket.remotePort ?? 0);
      conn.wire();
      this.post(() => (conn.handler = accept(conn)));
    });
    this.servers.add(server);
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => this.post(resolve));
    });
    return {
      get port() {
        const a = server.address();
        return typeof a === 'object' && a !== null ? a.port : port;
      },
      listening,
      close: () => void server.close(),
    };
  }

  tcpConnect(address: string, port: number, handler: TcpHandler): TcpConnection {
    const socket = connect({ host: address, port });
    this.sockets.add(socket);
    const conn = new MiniConnection(socket, this, address, port);
    conn.handler = handler;
    conn.wire();
    socket.once('connect', () => this.post(() => handler.connected?.(conn)));
    return conn;
  }

  udpBind(): UdpSocket {
    throw new UsageError('mini NetworkManager: no UDP');
  }

  /** The declared lifecycle: the runtime calls it when the front-end stops. */
  stop(): void {
    for (const s of this.sockets) s.destroy();
    for (const s of this.servers) s.close();
    this.sockets.clear();
    this.servers.clear();
  }
}

export const manifest = defineEbbManifest<Record<string, unknown>, NetworkManager>({
  name: 'mini-network-manager',
  implements: 'NetworkManager',
  targets: ['hosted'],
  create: (context) => new MiniNetworkManager(context.node),
});
