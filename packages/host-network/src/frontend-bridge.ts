import { EbbRef } from '@ebbrt/core-translation';
import { queueMacrotask, type Simulation } from '@ebbrt/hw-x86sim';
import {
  IOBuf,
  SystemEbbIds,
  UsageError,
  type CoreInfo,
  type EventManagerRoot,
  type InterfaceInfo,
  type NetworkManager,
  type NetworkManagerRoot,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
  type UdpSocket,
} from '@ebbrt/interfaces';
import type { GatewayNode } from './app-network.js';

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
/** Host turns the front-end may stay busy for before the world goes on without it. */
const MAX_BUSY_TURNS = 100_000;
/** What the bridge reports as send window: the gateway's stack queues what does not fit. */
const OPEN_WINDOW = 1 << 30;

/**
 * The front-end on the simulated timeline (virtual clock). The front-end is node 0 of the
 * MultiLibOS, but it is a Node process: its events run on Node's loop, not on a simulated core.
 * Under the virtual clock it reaches the network through the gateway node's stack instead of host
 * sockets (which a discrete-event run cannot wait for): its NetworkManager is this bridge's
 * {@link BridgedNetworkManagerRoot}, whose connections are the gateway's, so back-ends reach node 0
 * at the gateway's address as they do in real time.
 *
 * Replay. Everything that crosses from the gateway to the front-end freezes the simulation
 * (`Simulation.freeze`) until the front-end's Event Manager is quiescent again, so its answer
 * enters the world at the simulated instant the question arrived, however long the host took.
 * That holds for work finished inside the front-end's events (its FileSystem does synchronous I/O
 * under the virtual clock for this reason): a front-end waiting on a host timer or socket is
 * outside the simulation and not replayable.
 */
export class FrontendBridge {
  private gateway: GatewayNode | undefined;
  private readonly beforeGateway: (() => void)[] = [];
  private release: (() => void) | undefined;
  private busyTurns = 0;
  /** Crossings into the front-end (each one froze the world, or found it frozen). */
  crossings = 0;
  /** Times the front-end stayed busy past MAX_BUSY_TURNS and the world went on. */
  overruns = 0;

  constructor(
    private readonly simulation: Simulation,
    private readonly frontendEvents: () => EventManagerRoot | undefined,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** The gateway node is booted: crossings queued before it run now, in order. */
  attachGateway(gateway: GatewayNode): void {
    this.gateway = gateway;
    for (const fn of this.beforeGateway.splice(0)) gateway.events.post(0, fn);
  }

  /** Runs `fn` as an event on the gateway's core 0 (its stack's core). */
  toGateway(fn: () => void): void {
    if (this.gateway === undefined) this.beforeGateway.push(fn);
    else this.gateway.events.post(0, fn);
  }

  /** Runs `fn` as an event on front-end core `core`, with the world frozen until the front-end is quiet. */
  toFrontend(core: number, fn: () => void): void {
    const events = this.frontendEvents();
    if (events === undefined) return;
    this.crossings++;
    if (this.release === undefined) {
      this.release = this.simulation.freeze();
      this.busyTurns = 0;
      queueMacrotask(this.check);
    }
    events.post(core, fn);
  }

  /** The root to install as the front-end's NetworkManager. */
  networkManagerRoot(): BridgedNetworkManagerRoot {
    return new BridgedNetworkManagerRoot(this);
  }

  private readonly check = (): void => {
    const events = this.frontendEvents();
    const quiet = events?.quiescent?.() ?? true;
    if (!quiet && ++this.busyTurns < MAX_BUSY_TURNS) {
      queueMacrotask(this.check);
      return;
    }
    if (!quiet) {
      this.overruns++;
      this.log(`front-end bridge: the front-end is still busy after ${MAX_BUSY_TURNS} host turns; the simulation goes on (this run may not replay by seed)`);
    }
    const release = this.release;
    this.release = undefined;
    release?.();
  };
}

/** The front-end's NetworkManager root under the virtual clock: TCP over the gateway's stack. */
export class BridgedNetworkManagerRoot implements NetworkManagerRoot {
  private readonly rep: BridgedNetworkManager;

  constructor(readonly bridge: FrontendBridge) {
    this.rep = new BridgedNetworkManager(bridge);
  }

  handleFault(_core: CoreInfo): NetworkManager {
    return this.rep;
  }
}

class BridgedNetworkManager implements NetworkManager {
  constructor(private readonly bridge: FrontendBridge) {}

  interfaces(): readonly InterfaceInfo[] {
    return [];
  }

  /**
   * Listens on `port` of the gateway's address. The port must be given (the gateway's stack
   * binds it in its first event, after the run starts): `listening` resolves at once with it.
   */
  tcpListen(port: number, accept: (connection: TcpConnection) => TcpHandler): TcpListener {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) {
      throw new UsageError(`front-end bridge: tcpListen needs a port 1..65535 (the gateway binds it), got ${port}`);
    }
    const bridge = this.bridge;
    let inner: TcpListener | undefined;
    let closed = false;
    bridge.toGateway(() => {
      if (closed) return;
      inner = nmRef.deref().tcpListen(port, (conn) => {
        const side = new BridgedConnection(bridge, 0, conn.localPort, conn.remoteAddress, conn.remotePort);
        side.gateway = conn;
        bridge.toFrontend(0, () => side.setHandler(accept(side)));
        return side.gatewayHandler;
      });
    });
    return {
      port,
      listening: Promise.resolve(),
      close: () => {
        closed = true;
        bridge.toGateway(() => inner?.close());
      },
    };
  }

  tcpConnect(address: string, port: number, handler: TcpHandler): TcpConnection {
    const side = new BridgedConnection(this.bridge, 0, 0, address, port);
    side.setHandler(handler);
    this.bridge.toGateway(() => {
      try {
        side.gateway = nmRef.deref().tcpConnect(address, port, side.gatewayHandler);
        side.flush();
      } catch (e) {
        side.failConnect(e instanceof Error ? e : new Error(String(e)));
      }
    });
    return side;
  }

  udpBind(): UdpSocket {
    throw new UsageError('front-end bridge: the front-end has no UDP under the virtual clock (only its Messenger\'s TCP crosses the gateway)');
  }
}

/**
 * The front-end's side of one of the gateway's connections. Calls made on the front-end are
 * replayed on the gateway's core (in order: one event each); the gateway's callbacks are replayed
 * on the front-end's core. Bytes are copied across: received views belong to the other node's
 * allocator.
 */
class BridgedConnection implements TcpConnection {
  gateway: TcpConnection | undefined;
  private handler: TcpHandler | undefined;
  /** Gateway-side calls made before tcpConnect returned there. */
  private waiting: ((g: TcpConnection) => void)[] = [];
  readonly gatewayHandler: TcpHandler;

  constructor(
    private readonly bridge: FrontendBridge,
    public core: number,
    public localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    const self = this;
    this.gatewayHandler = {
      receive(_c, data) {
        const bytes = data.toUint8Array();
        data.releaseChain();
        self.up((h) => h.receive(self, IOBuf.wrap(bytes)));
      },
      connected(c) {
        self.localPort = c.localPort;
        self.up((h) => h.connected?.(self));
      },
      closed() {
        self.up((h) => h.closed?.(self));
      },
      aborted(_c, reason) {
        self.up((h) => h.aborted?.(self, reason));
      },
    };
  }

  setHandler(handler: TcpHandler): void {
    this.handler = handler;
  }

  /** Runs what waited for the gateway's connection (on the gateway's core). */
  flush(): void {
    const g = this.gateway!;
    for (const fn of this.waiting.splice(0)) fn(g);
  }

  /** tcpConnect threw on the gateway (no route, no port): the front-end's handler hears it as an abort. */
  failConnect(reason: Error): void {
    this.up((h) => h.aborted?.(this, reason));
  }

  private up(fn: (h: TcpHandler) => void): void {
    this.bridge.toFrontend(this.core, () => {
      if (this.handler !== undefined) fn(this.handler);
    });
  }

  private down(fn: (g: TcpConnection) => void): void {
    this.bridge.toGateway(() => {
      if (this.gateway !== undefined) fn(this.gateway);
      else this.waiting.push(fn);
    });
  }

  send(data: IOBuf): void {
    this.sendQueued(data);
  }

  sendQueued(data: IOBuf): void {
    const bytes = data.toUint8Array();
    data.releaseChain();
    this.down((g) => g.sendQueued(IOBuf.wrap(bytes)));
  }

  sendWindowRemaining(): number {
    return OPEN_WINDOW;
  }

  bindCore(core: number): void {
    this.core = core;
  }

  setNoDelay(noDelay: boolean): void {
    this.down((g) => g.setNoDelay(noDelay));
  }

  setKeepAlive(enable: boolean, idleMs?: number): void {
    this.down((g) => g.setKeepAlive(enable, idleMs));
  }

  pauseReceive(): void {
    this.down((g) => g.pauseReceive());
  }

  resumeReceive(): void {
    this.down((g) => g.resumeReceive());
  }

  shutdown(): void {
    this.down((g) => g.shutdown());
  }

  close(): void {
    this.down((g) => g.close());
  }

  abort(): void {
    this.down((g) => g.abort());
  }
}
