import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A node agent's gateway relays only to its own host's loopback (host access). A peer on another
 * host (a cluster platform's front-end or nodes) is reached through one of these: a loopback port
 * on this host whose connections are piped to `host:port`. Only Messenger TCP crosses hosts this
 * way; the node's simulated network stays in its own process.
 */
export class PeerRelays {
  private readonly relays = new Map<string, { server: Server; port: Promise<number>; sockets: Set<Socket> }>();

  /** The loopback port on this host that reaches `host:port` (the same one for the same peer). */
  port(host: string, port: number): Promise<number> {
    if (isLoopback(host)) return Promise.resolve(port);
    const key = `${host}:${port}`;
    const existing = this.relays.get(key);
    if (existing !== undefined) return existing.port;
    const sockets = new Set<Socket>();
    const server = createServer((inbound) => {
      const outbound = connect({ host, port });
      inbound.setNoDelay(true);
      outbound.setNoDelay(true);
      sockets.add(inbound).add(outbound);
      // Either side's end or error ends both: the Messenger sees a real connection reset.
      const end = (): void => {
        inbound.destroy();
        outbound.destroy();
        sockets.delete(inbound);
        sockets.delete(outbound);
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    server.unref();
    const bound = new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    this.relays.set(key, { server, port: bound, sockets });
    return bound;
  }

  /** Stops relaying to `host:port` (the peer was forgotten). */
  close(host: string, port: number): void {
    const key = `${host}:${port}`;
    const relay = this.relays.get(key);
    if (relay === undefined) return;
    this.relays.delete(key);
    for (const s of relay.sockets) s.destroy();
    relay.server.close();
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}
