import type { MessengerTraffic } from '@ebbrt/interfaces';

/** Counters of the traffic with one peer (payload bytes, headers excluded). */
export interface PeerStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  /** Connections this node opened to the peer. */
  connectionsOpened: number;
  /** Connections the peer opened to this node (counted once its HELLO arrived). */
  connectionsAccepted: number;
  /** Connections to or from the peer that ended by reset, refusal, timeout or bad input. */
  connectionsFailed: number;
  /** Sends rejected because the connection died before they reached the transport. */
  sendsFailed: number;
  /** Connections dropped as stale because the peer's HELLO said it had restarted since. */
  staleConnections: number;
}

export interface MessengerStats extends PeerStats {
  /** Messages for an Ebb with neither a handler nor a type fault handler: dropped. */
  dropsNoHandler: number;
  /** Handlers (or type fault handlers) that threw. */
  handlerErrors: number;
  /** Connections closed for bad input (bad magic, absurd length, message before HELLO, ...). */
  protocolErrors: number;
  /** Messages addressed to this node itself (delivered without the network). */
  localDeliveries: number;
  /** Type fault handlers called (one per Ebb per node). */
  typeFaults: number;
  peers: Record<number, PeerStats>;
}

export function emptyPeerStats(): PeerStats {
  return {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    connectionsOpened: 0,
    connectionsAccepted: 0,
    connectionsFailed: 0,
    sendsFailed: 0,
    staleConnections: 0,
  };
}

/** The counters one core writes (only that core, so no counter is shared between cores). */
export class CoreStats {
  readonly peers = new Map<number, PeerStats>();
  dropsNoHandler = 0;
  handlerErrors = 0;
  protocolErrors = 0;
  localDeliveries = 0;
  typeFaults = 0;

  peer(id: number): PeerStats {
    let s = this.peers.get(id);
    if (s === undefined) {
      s = emptyPeerStats();
      this.peers.set(id, s);
    }
    return s;
  }
}

const PEER_KEYS = Object.keys(emptyPeerStats()) as (keyof PeerStats)[];

/** Sums the per-core counters (EbbRT's gather-on-read). */
export function sumStats(cores: readonly CoreStats[]): MessengerStats {
  const out: MessengerStats = {
    ...emptyPeerStats(),
    dropsNoHandler: 0,
    handlerErrors: 0,
    protocolErrors: 0,
    localDeliveries: 0,
    typeFaults: 0,
    peers: {},
  };
  for (const c of cores) {
    out.dropsNoHandler += c.dropsNoHandler;
    out.handlerErrors += c.handlerErrors;
    out.protocolErrors += c.protocolErrors;
    out.localDeliveries += c.localDeliveries;
    out.typeFaults += c.typeFaults;
    for (const [id, s] of c.peers) {
      const p = (out.peers[id] ??= emptyPeerStats());
      for (const k of PEER_KEYS) {
        p[k] += s[k];
        out[k] += s[k];
      }
    }
  }
  return out;
}

/** The summed counters as the declared MessengerTraffic (the dashboard's node graph). */
export function trafficOf(stats: MessengerStats): MessengerTraffic {
  const peers = Object.entries(stats.peers)
    .map(([id, p]) => ({ peer: Number(id), messagesSent: p.messagesSent, bytesSent: p.bytesSent, messagesReceived: p.messagesReceived, bytesReceived: p.bytesReceived }))
    .sort((a, b) => a.peer - b.peer);
  return {
    peers,
    errors: { dropsNoHandler: stats.dropsNoHandler, handlerErrors: stats.handlerErrors, protocolErrors: stats.protocolErrors, sendsFailed: stats.sendsFailed, connectionsFailed: stats.connectionsFailed },
  };
}
