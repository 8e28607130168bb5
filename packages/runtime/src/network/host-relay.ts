import { connect, type Socket } from 'node:net';
import type { EventManagerRoot, GatewayCapability, TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';
import { newRelayStats, SocketRelay, type RelayStats } from './socket-relay.js';

/**
 * The other direction of QEMU's user networking: a node that connects to the gateway's address on
 * any port reaches that port on the host's loopback (as a guest reaches the host at 10.0.2.2). A
 * host that refuses the connection resets the node's.
 */
export class HostRelay {
  readonly stats: RelayStats = newRelayStats();
  private listener: TcpListener | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly events: EventManagerRoot,
    private readonly host: string,
  ) {}

  /** Call inside an event on the gateway's core 0. */
  open(stack: GatewayCapability): void {
    this.listener = stack.listenAnyPort((conn) => this.accept(conn), 0);
  }

  private accept(conn: TcpConnection): TcpHandler {
    const socket = connect({ host: this.host, port: conn.localPort, allowHalfOpen: true });
    this.sockets.add(socket);
    const relay = new SocketRelay(socket, (fn) => this.events.post(0, fn), this.stats, () => this.sockets.delete(socket), () => undefined);
    relay.attach(conn);
    return relay;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.events.post(0, () => this.listener?.close());
  }
}
