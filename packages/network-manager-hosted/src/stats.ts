/**
 * The hosted stack's counters as the declared `NetworkStats` (the dashboard's node 0 card). The
 * host kernel owns the real stack, so there is no NIC to report and no per-segment drop: what this
 * node can see is its sockets, the bytes Node moved on them, and the connections an error ended
 * (by Node's error code, the drop reasons a hosted stack has). Counted once per connection, never
 * per byte; the table is built only when a tool asks.
 */
import type { NetworkStats, TcpConnectionInfo } from '@ebbrt/interfaces';
import type { HostedTcpConnection } from './tcp-connection.js';

/** What the NetworkManager keeps for its stats: totals of connections that are gone. */
export class HostedCounters {
  opened = 0;
  closedBytesRead = 0;
  closedBytesWritten = 0;
  /** Connections ended by a socket error, by `error.code` (ECONNRESET, ECONNREFUSED, ...). */
  readonly errors = new Map<string, number>();

  /** A connection Node closed: its bytes move to the totals. */
  closed(c: HostedTcpConnection): void {
    this.closedBytesRead += c.bytes.read;
    this.closedBytesWritten += c.bytes.written;
  }

  error(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'other';
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

export interface HostedSockets {
  readonly connections: Iterable<HostedTcpConnection>;
  readonly listeners: number;
  readonly udpSockets: number;
}

export function hostedNetworkStats(counters: HostedCounters, sockets: HostedSockets): NetworkStats {
  const connections: TcpConnectionInfo[] = [];
  let read = counters.closedBytesRead;
  let written = counters.closedBytesWritten;
  for (const c of sockets.connections) {
    connections.push(c.info());
    read += c.bytes.read;
    written += c.bytes.written;
  }
  const drops: Record<string, number> = {};
  for (const [code, n] of counters.errors) drops[`tcp.error.${code}`] = n;
  return {
    nic: {},
    stack: {
      'tcp.connections': connections.length,
      'tcp.opened': counters.opened,
      'tcp.bytesRead': read,
      'tcp.bytesWritten': written,
      'host.listeners': sockets.listeners,
      'host.udpSockets': sockets.udpSockets,
    },
    drops,
    connections,
  };
}
