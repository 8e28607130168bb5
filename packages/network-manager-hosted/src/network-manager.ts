import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { cpu, type NodeContext } from '@ebbrt/core-translation';
import {
  IOBuf,
  SystemEbbIds,
  UsageError,
  type CoreInfo,
  type EventFn,
  type EventManagerRoot,
  type InterfaceInfo,
  type Ipv4String,
  type NetworkManager,
  type NetworkManagerRoot,
  type NetworkStats,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
  type UdpSocket,
} from '@ebbrt/interfaces';
import type { HostContext } from './host-context.js';
import type { HostedNetworkOptions } from './options.js';
import { HostedCounters, hostedNetworkStats } from './stats.js';
import { HostedTcpConnection, unmapIpv4 } from './tcp-connection.js';

/**
 * The NetworkManager of a hosted node (the front-end) over node:net and
 * node:dgram. One rep per node, shared by every core (Node's sockets live on
 * one thread anyway); each connection, listener and UDP socket is bound to a
 * core, and everything Node reports enters that core as an event through the
 * EventManagerRoot's `post`. The object is both the Ebb's root and its rep.
 */
export class HostedNetworkManager implements NetworkManager, NetworkManagerRoot, HostContext {
  readonly nodeId: number;
  readonly numCores: number;
  private events: EventManagerRoot | undefined;
  private readonly live = new Set<HostedTcpConnection | HostedTcpListener | HostedUdpSocket>();
  private nextAcceptCore = 0;
  private readonly counters = new HostedCounters();

  constructor(
    private readonly node: NodeContext,
    readonly options: HostedNetworkOptions,
    private readonly logLine: (line: string) => void,
  ) {
    this.nodeId = node.id;
    this.numCores = node.numCores;
  }

  handleFault(_core: CoreInfo): NetworkManager {
    return this;
  }

  // ------------------------------------------------------------ HostContext

  post(core: number, fn: EventFn): void {
    this.eventManagerRoot().post(core, fn);
  }

  log(line: string): void {
    this.logLine(line);
  }

  forget(socket: object): void {
    if (!this.live.delete(socket as HostedTcpConnection)) return;
    if (socket instanceof HostedTcpConnection) this.counters.closed(socket);
  }

  socketError(error: Error): void {
    this.counters.error(error);
  }

  /** The node's EventManagerRoot, found in its LocalIdMap on first use (it may be installed after us). */
  private eventManagerRoot(): EventManagerRoot {
    if (this.events !== undefined) return this.events;
    const root = this.node.localIdMap.get(SystemEbbIds.EventManager) as Partial<EventManagerRoot> | undefined;
    if (root === undefined || typeof root.post !== 'function') {
      throw new UsageError(
        `@ebbrt/network-manager-hosted needs an EventManager whose root has post() on node ${this.node.id}`,
      );
    }
    this.events = root as EventManagerRoot;
    return this.events;
  }

  /** The calling core if it belongs to this node, else core 0. */
  private callerCore(): number {
    const core = cpu.current;
    return core !== undefined && core.node === this.node ? core.index : 0;
  }

  /** A promise settled by an event on `core`, so `await` resumes there; never an unhandled rejection. */
  private corePromise(core: number): { promise: Promise<void>; settle(error?: Error): void } {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    return {
      promise,
      settle: (error) => this.post(core, () => (error === undefined ? resolve() : reject(error))),
    };
  }

  /** What the dashboard shows of this node's sockets (NetworkManagerRoot's optional member). */
  networkStats(): NetworkStats {
    const connections: HostedTcpConnection[] = [];
    let listeners = 0;
    let udpSockets = 0;
    for (const s of this.live) {
      if (s instanceof HostedTcpConnection) connections.push(s);
      else if (s instanceof HostedTcpListener) listeners++;
      else udpSockets++;
    }
    return hostedNetworkStats(this.counters, { connections, listeners, udpSockets });
  }

  // ------------------------------------------------------------ NetworkManager

  interfaces(): readonly InterfaceInfo[] {
    const result: InterfaceInfo[] = [];
    for (const [name, addresses] of Object.entries(networkInterfaces())) {
      for (const a of addresses ?? []) {
        if (a.family !== 'IPv4') continue;
        result.push({ name, mac: a.mac, address: a.address, netmask: a.netmask, gateway: undefined });
      }
    }
    return result;
  }

  tcpListen(port: number, accept: (connection: TcpConnection) => TcpHandler): TcpListener {
    checkPort(port);
    const core = this.callerCore();
    const ready = this.corePromise(core);
    const server = createServer({ allowHalfOpen: true, noDelay: this.options.noDelay });
    const listener = new HostedTcpListener(this, server, port, ready.promise);
    this.live.add(listener);
    let listening = false;
    server.on('listening', () => {
      listening = true;
      ready.settle();
    });
    server.on('error', (error: Error) => {
      if (!listening) {
        this.forget(listener);
        ready.settle(error);
      } else this.log(`network-manager-hosted: listener on port ${listener.port}: ${error.message}`);
    });
    server.on('connection', (socket: Socket) => {
      const target = this.acceptCore(core);
      const connection = new HostedTcpConnection(this, socket, target, undefined);
      this.live.add(connection);
      this.counters.opened++;
      connection.arrive({ kind: 'accept', accept });
    });
    server.listen({ port, host: this.options.host });
    return listener;
  }

  private acceptCore(listenerCore: number): number {
    if (this.options.acceptCore === 'listener') return listenerCore;
    const core = (listenerCore + this.nextAcceptCore) % this.numCores;
    this.nextAcceptCore = (this.nextAcceptCore + 1) % this.numCores;
    return core;
  }

  tcpConnect(address: Ipv4String, port: number, handler: TcpHandler): TcpConnection {
    checkPort(port);
    const socket = connect({ host: address, port, allowHalfOpen: true, noDelay: this.options.noDelay });
    const connection = new HostedTcpConnection(this, socket, this.callerCore(), handler, address, port);
    this.live.add(connection);
    this.counters.opened++;
    socket.once('connect', () => connection.arrive({ kind: 'connect' }));
    return connection;
  }

  udpBind(port: number, receive: (from: { address: Ipv4String; port: number }, data: IOBuf) => void): UdpSocket {
    checkPort(port);
    const core = this.callerCore();
    const ready = this.corePromise(core);
    const socket = createSocket('udp4');
    const udp = new HostedUdpSocket(this, socket, core, port, ready.promise);
    this.live.add(udp);
    let bound = false;
    socket.on('listening', () => {
      bound = true;
      ready.settle();
    });
    socket.on('error', (error: Error) => {
      if (!bound) {
        udp.close();
        ready.settle(error);
      } else this.log(`network-manager-hosted: UDP port ${udp.port}: ${error.message}`);
    });
    socket.on('message', (message: Buffer, from) => {
      const sender = { address: unmapIpv4(from.address), port: from.port };
      this.post(core, () => {
        if (!udp.isClosed) receive(sender, IOBuf.wrap(message));
      });
    });
    socket.bind({ port, address: this.options.host });
    return udp;
  }

  /** Destroys every socket and listener of this node (node shutdown, tests). No callbacks follow. */
  closeAll(): void {
    for (const s of [...this.live]) {
      if (s instanceof HostedTcpConnection) s.abort();
      else s.close();
    }
    this.live.clear();
  }

  /** The root's lifecycle: the node stops, so its host sockets go (the runtime calls it). */
  stop(): void {
    this.closeAll();
  }

  /** Sockets and listeners still open. */
  get openCount(): number {
    return this.live.size;
  }
}

export class HostedTcpListener implements TcpListener {
  private closed = false;

  constructor(
    private readonly host: HostContext,
    readonly server: Server,
    private readonly requestedPort: number,
    readonly listening: Promise<void>,
  ) {}

  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : this.requestedPort;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.forget(this);
    this.server.close();
  }
}

export class HostedUdpSocket implements UdpSocket {
  private closed = false;

  constructor(
    private readonly host: HostContext,
    readonly socket: DgramSocket,
    private readonly core: number,
    private readonly requestedPort: number,
    readonly bound: Promise<void>,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  get port(): number {
    try {
      return this.socket.address().port;
    } catch {
      return this.requestedPort; // not bound yet
    }
  }

  sendTo(address: Ipv4String, port: number, data: IOBuf): void {
    if (this.closed) throw new UsageError('sendTo on a closed UDP socket');
    checkPort(port);
    const views: Uint8Array[] = [];
    data.forEachElement((element) => {
      if (element.length > 0) views.push(element.data());
    });
    this.socket.send(views, port, address, (error) => {
      if (error != null) this.host.log(`network-manager-hosted: UDP send to ${address}:${port}: ${error.message}`);
      this.host.post(this.core, () => data.releaseChain());
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.forget(this);
    try {
      this.socket.close();
    } catch {
      // already closed by Node after a bind error
    }
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  }
}
