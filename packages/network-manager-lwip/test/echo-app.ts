/**
 * A TCP echo app written only against the `@ebbrt/interfaces` NetworkManager interface, so the
 * very same function runs on the hosted stack (`@ebbrt/network-manager-hosted`, node:net) and on
 * the native one (`@ebbrt/network-manager-lwip`). Call it inside an event on the core that
 * should own the listener.
 */
import { createHash } from 'node:crypto';
import { IOBuf, type NetworkManager, type TcpConnection, type TcpHandler, type TcpListener } from '@ebbrt/interfaces';

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

/** What an echo client saw: the bytes that came back and their sha256, and how the connection ended. */
export interface EchoClient {
  received: number;
  closed: boolean;
  aborted: Error | undefined;
  /** sha256 (hex) of the bytes received, in order. */
  digest(): string;
}

/**
 * The client side, against the same interface: connects to `address:port`, sends `payload` in
 * 64 KiB chains, shuts its side down, hashes what comes back and closes once the peer has. Call
 * inside an event; read the result after the run.
 */
export function sendAndHash(nm: NetworkManager, address: string, port: number, payload: Uint8Array): EchoClient {
  const hash = createHash('sha256');
  const client: EchoClient = { received: 0, closed: false, aborted: undefined, digest: () => hash.digest('hex') };
  nm.tcpConnect(address, port, {
    connected(c) {
      for (let off = 0; off < payload.length; off += 65536) c.sendQueued(IOBuf.copyOf(payload.subarray(off, off + 65536)));
      c.shutdown();
    },
    receive(_c, buf) {
      for (let e = buf, first = true; first || e !== buf; e = e.next, first = false) hash.update(e.data());
      client.received += buf.computeChainDataLength();
      buf.releaseChain();
    },
    closed(c) {
      client.closed = true;
      c.close();
    },
    aborted: (_c, e) => (client.aborted = e),
  });
  return client;
}
