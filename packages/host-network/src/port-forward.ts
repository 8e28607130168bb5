import { createServer, type Server, type Socket } from 'node:net';
import { UsageError, type EventManagerRoot, type NetworkManager } from '@ebbrt/interfaces';
import { newRelayStats, SocketRelay, type RelayStats } from './socket-relay.js';

export interface ForwardTarget {
  /** Where the host listens. */
  listen: { host: string; port: number };
  /** The node's address and port inside the simulated network. */
  address: string;
  port: number;
}

export type PortForwardStats = RelayStats;

/**
 * A host TCP port carried into the simulated network by a TCP/IP stack of our own (QEMU's
 * hostfwd): each host connection is paired with a connection that the gateway node (a simulated
 * machine running the native NetworkManager) opens to the target node.
 */
export class PortForward {
  readonly stats: PortForwardStats = newRelayStats();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Why the target is gone (new host connections are reset at once), or undefined. */
  private down: string | undefined;

  constructor(
    readonly target: ForwardTarget,
    private readonly events: EventManagerRoot,
    /** The gateway's NetworkManager rep (called only inside events on core 0 of the gateway). */
    private readonly network: () => NetworkManager,
    private readonly log: (line: string) => void,
  ) {}

  /** The bound host port (the real one when 0 was asked for). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : this.target.listen.port;
  }

  /** Starts listening on the host; rejects with an error naming the address if it cannot. */
  open(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server = server;
    const { host, port } = this.target.listen;
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new UsageError(
            `port forward ${host}:${port} → ${this.target.address}:${this.target.port}: cannot listen: ${e.code ?? e.message}` +
              (e.code === 'EADDRINUSE' ? ' (another program has that port; change network.forwards[].listen in the config)' : ''),
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /**
   * The target node is gone (its machine powered off): it can send no RST, so the gateway would
   * retransmit into the void for minutes. Reset every host connection now, as a host would see a
   * dead server's connections end.
   */
  resetAll(why: string): void {
    this.down = why;
    if (this.sockets.size > 0) this.log(`port forward ${this.port}: ${why}: resetting ${this.sockets.size} connection(s)`);
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  private accept(socket: Socket): void {
    if (this.down !== undefined) {
      socket.resetAndDestroy();
      return;
    }
    this.sockets.add(socket);
    const post = (fn: () => void): void => this.events.post(0, fn);
    // The host socket stays paused until the node accepts (relay.connected resumes it).
    const relay = new SocketRelay(socket, post, this.stats, () => this.sockets.delete(socket), (reason) =>
      this.log(`port forward ${this.port}: connection to ${this.target.address}:${this.target.port} aborted: ${reason.message}`),
    );
    post(() => {
      if (!socket.destroyed) relay.attach(this.network().tcpConnect(this.target.address, this.target.port, relay));
    });
  }
}
