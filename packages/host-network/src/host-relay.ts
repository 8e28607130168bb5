import { connect, type Socket } from 'node:net';
import type { EventManagerRoot, GatewayCapability, TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';
import { newRelayStats, SocketRelay, type RelayStats } from './socket-relay.js';

/** The handler of a connection refused on accept: it was aborted already, nothing arrives. */
const REFUSED: TcpHandler = { receive: (_c, data) => data.releaseChain() };

/** Who may reach which host port through the relay. */
export interface HostAccessPolicy {
  /** Whether a connection from `remote` (an address in the subnet) to host port `port` is relayed. */
  admits(remote: string, port: number): boolean;
}

/**
 * The other direction of QEMU's user networking: a node that connects to the gateway's address on
 * a port the policy admits reaches that port on the host's loopback (as a guest reaches the host
 * at 10.0.2.2). The policy is asked at SYN time (the stack answers a refused SYN with a RST, as a
 * closed port does) and again on accept. A host that refuses the connection resets the node's.
 */
export class HostRelay {
  readonly stats: RelayStats = newRelayStats();
  /** SYNs or connections the policy refused (wrong source or a port not opened). */
  refused = 0;
  private listener: TcpListener | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly events: EventManagerRoot,
    private readonly host: string,
    private readonly policy: HostAccessPolicy,
  ) {}

  /** Call inside an event on the gateway's core 0. */
  open(stack: GatewayCapability): void {
    this.listener = stack.listenAnyPort((conn) => this.accept(conn), 0, (remote, port) => this.admit(remote, port));
  }

  private admit(remote: string, port: number): boolean {
    if (this.policy.admits(remote, port)) return true;
    this.refused++;
    return false;
  }

  private accept(conn: TcpConnection): TcpHandler {
    // A stack that took the SYN anyway (or a policy that changed since) still relays nothing.
    if (!this.admit(conn.remoteAddress, conn.localPort)) {
      conn.abort();
      return REFUSED;
    }
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
