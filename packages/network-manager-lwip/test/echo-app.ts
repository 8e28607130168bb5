/**
 * A TCP echo app written only against the `@ebbrt/interfaces` NetworkManager interface, so the
 * very same function runs on the hosted stack (`@ebbrt/network-manager-hosted`, node:net) and on
 * the native one (`@ebbrt/network-manager-lwip`). Call it inside an event on the core that
 * should own the listener.
 */
import type { NetworkManager, TcpConnection, TcpHandler, TcpListener } from '@ebbrt/interfaces';

export interface EchoStats {
  accepted: number;
  closed: number;
  aborted: Error[];
  bytes: number;
}

/**
 * Listens on `port` (0 = ephemeral) and echoes every received chain back with `sendQueued`
 * (ownership passes to the stack: zero copy). When the peer closes, the queued bytes are
 * flushed and our side is closed. Resolves once the listener is bound (`listener.port` valid).
 */
export async function startEcho(nm: NetworkManager, port: number, stats?: EchoStats): Promise<TcpListener> {
  const handler: TcpHandler = {
    receive(conn: TcpConnection, data) {
      if (stats !== undefined) stats.bytes += data.computeChainDataLength();
      conn.sendQueued(data);
    },
    closed(conn) {
      if (stats !== undefined) stats.closed++;
      conn.close();
    },
    aborted(_conn, reason) {
      stats?.aborted.push(reason);
    },
  };
  const listener = nm.tcpListen(port, () => {
    if (stats !== undefined) stats.accepted++;
    return handler;
  });
  await listener.listening;
  return listener;
}

export function newEchoStats(): EchoStats {
  return { accepted: 0, closed: 0, aborted: [], bytes: 0 };
}
