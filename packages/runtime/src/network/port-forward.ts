import { createServer, type Server, type Socket } from 'node:net';
import { IOBuf, type EventManagerRoot, type NetworkManager, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';

export interface ForwardTarget {
  /** Where the host listens. */
  listen: { host: string; port: number };
  /** The node's address and port inside the simulated network. */
  address: string;
  port: number;
}

export interface PortForwardStats {
  accepted: number;
  active: number;
  /** Host → node payload bytes. */
  bytesIn: number;
  /** Node → host payload bytes. */
  bytesOut: number;
  /** Connections the node refused or reset, or that failed on the host side. */
  failed: number;
}

/**
 * A host TCP port carried into the simulated network by a TCP/IP stack of our own: each host
 * connection is paired with a connection that the gateway node (a simulated machine running the
 * native NetworkManager) opens to the target node, and bytes, half-closes and resets are relayed
 * both ways. The host side is real time; the relay enters the gateway's core through its Event
 * Manager, like any device interrupt. Host → node honours the stack's send window (the host
 * socket pauses while the window is closed).
 */
export class PortForward {
  readonly stats: PortForwardStats = { accepted: 0, active: 0, bytesIn: 0, bytesOut: 0, failed: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

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
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.relay(socket));
    this.server = server;
    const { host, port } = this.target.listen;
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(`port forward ${host}:${port} → ${this.target.address}:${this.target.port}: cannot listen: ${e.code ?? e.message}`)),
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

  private relay(socket: Socket): void {
    this.stats.accepted++;
    this.stats.active++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const stats = this.stats;
    let conn: TcpConnection | undefined;
    let hostEnded = false;
    let nodeClosed = false;
    let finished = false;
    const post = (fn: () => void): void => this.events.post(0, fn);
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stats.active--;
      this.sockets.delete(socket);
    };
    const handler: TcpHandler = {
      connected: () => socket.resume(),
      receive: (_c, data) => {
        // The host write completes later, while these views belong to the node's allocator: copy.
        const bytes = data.toUint8Array();
        data.releaseChain();
        stats.bytesOut += bytes.length;
        if (!socket.destroyed) socket.write(bytes);
      },
      closed: (c) => {
        nodeClosed = true;
        socket.end();
        if (hostEnded) c.close();
      },
      aborted: (_c, reason) => {
        stats.failed++;
        conn = undefined;
        socket.destroy();
        finish();
        if (!hostEnded) this.log(`port forward ${this.port}: connection to ${this.target.address}:${this.target.port} aborted: ${reason.message}`);
      },
      sendWindowIncreased: () => socket.resume(),
    };
    post(() => {
      if (socket.destroyed) return;
      conn = this.network().tcpConnect(this.target.address, this.target.port, handler);
    });
    socket.on('data', (chunk: Buffer) => {
      stats.bytesIn += chunk.length;
      post(() => {
        if (conn === undefined) return;
        conn.sendQueued(IOBuf.wrap(chunk));
        // Queued beyond the window: hold the host side until the stack reports room again.
        if (conn.sendWindowRemaining() === 0) socket.pause();
      });
    });
    socket.on('end', () => {
      hostEnded = true;
      post(() => {
        if (conn === undefined) return;
        if (nodeClosed) conn.close();
        else conn.shutdown();
      });
    });
    socket.on('error', () => undefined);
    socket.on('close', (hadError) => {
      finish();
      if (hadError || !hostEnded) {
        post(() => {
          conn?.abort();
          conn = undefined;
        });
      }
    });
  }
}
