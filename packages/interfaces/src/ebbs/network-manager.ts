import type { IOBuf } from '../iobuf/index.js';
import type { EbbRoot } from '../execution.js';
import type { NetworkStats } from '../introspection.js';

/** Dotted-quad IPv4 address, e.g. "10.0.3.2". */
export type Ipv4String = string;

export interface InterfaceInfo {
  readonly name: string;
  readonly mac: string;
  readonly address: Ipv4String | undefined;
  readonly netmask: Ipv4String | undefined;
  readonly gateway: Ipv4String | undefined;
}

/** Callbacks of a TCP connection, after lwIP's raw API. */
export interface TcpHandler {
  /** In-order payload, as views of the received buffers (no copy). */
  receive(connection: TcpConnection, data: IOBuf): void;
  /** A connection opened by {@link NetworkManager.tcpConnect} is established (not called for accepted ones). */
  connected?(connection: TcpConnection): void;
  /** The peer closed its side (FIN received). */
  closed?(connection: TcpConnection): void;
  /**
   * The connection was reset, timed out, or (for {@link NetworkManager.tcpConnect})
   * could not be established, e.g. ECONNREFUSED. No callback follows it.
   */
  aborted?(connection: TcpConnection, reason: Error): void;
  /** More send window opened after back-pressure. */
  sendWindowIncreased?(connection: TcpConnection): void;
}

export interface TcpConnection {
  readonly localPort: number;
  readonly remoteAddress: Ipv4String;
  readonly remotePort: number;
  /** Sends a chain now; throws if it exceeds {@link sendWindowRemaining}. */
  send(data: IOBuf): void;
  /** Sends a chain, queueing what does not fit the window until it opens. */
  sendQueued(data: IOBuf): void;
  sendWindowRemaining(): number;
  /** The core this connection's callbacks run on. */
  readonly core: number;
  /** Binds the connection's events to a core of this node. */
  bindCore(core: number): void;
  /**
   * true: every send goes out as soon as the windows allow (TCP_NODELAY). false: Nagle's
   * algorithm (RFC 896, RFC 9293 3.7.4): a segment smaller than the MSS waits while earlier data
   * is unacknowledged, so many small writes coalesce. Each NetworkManager documents its default.
   */
  setNoDelay(noDelay: boolean): void;
  /**
   * Keepalive (RFC 9293 3.8.4, like Node's `socket.setKeepAlive`): after `idleMs` without a
   * segment from the peer, probe it; a peer that stays silent through the stack's probes is
   * reaped (`aborted` with code ETIMEDOUT). `idleMs` defaults to the stack's setting.
   */
  setKeepAlive(enable: boolean, idleMs?: number): void;
  /**
   * Flow control: stop delivering received data. What arrives meanwhile is held by the stack and
   * counts against the receive window it advertises, so a fast peer is slowed down instead of
   * the data piling up (the window reaches zero when the buffer is full). No `receive` and no
   * `closed` callback runs while paused.
   */
  pauseReceive(): void;
  /** Delivers what was held, in order (then `closed` if the peer's FIN came), and reopens the window. */
  resumeReceive(): void;
  shutdown(): void;
  close(): void;
  abort(): void;
}

export interface TcpListener {
  /** The bound port: the real one (even when 0 was asked for) once {@link listening} has resolved. */
  readonly port: number;
  /**
   * Settles when the listener is bound: resolves (on the core that called
   * tcpListen) once {@link port} is valid, rejects if binding failed (e.g. EADDRINUSE).
   * A stack that binds synchronously returns an already-resolved promise.
   */
  readonly listening: Promise<void>;
  close(): void;
}

export interface UdpSocket {
  /** The bound port: the real one (even when 0 was asked for) once {@link bound} has resolved. */
  readonly port: number;
  /** Settles when the socket is bound, like {@link TcpListener.listening}. */
  readonly bound: Promise<void>;
  sendTo(address: Ipv4String, port: number, data: IOBuf): void;
  close(): void;
}

export interface NetworkManager {
  interfaces(): readonly InterfaceInfo[];
  tcpListen(port: number, accept: (connection: TcpConnection) => TcpHandler): TcpListener;
  tcpConnect(address: Ipv4String, port: number, handler: TcpHandler): TcpConnection;
  udpBind(
    port: number,
    receive: (from: { address: Ipv4String; port: number }, data: IOBuf) => void,
  ): UdpSocket;
}

/**
 * The capability a gateway needs of its stack: accept a connection to *any* local port that has no
 * listener of its own (QEMU user networking's host side). The runtime's host access and the
 * front-end's way to the nodes' Messengers relay through it.
 */
export interface GatewayCapability {
  /**
   * Accepts connections to every port without a listener, on `core` (call inside an event on
   * that core). One per stack; `close()` the listener to stop. The accepted connection's
   * `localPort` is the port the peer asked for, and its `remoteAddress` the peer's.
   *
   * `admit` is asked for every SYN (remote address, port asked for): a SYN it refuses is answered
   * like one to a closed port (RST), so no handshake completes. It is required: a relay to any
   * port for any source is the exposure this seam must not make easy.
   */
  listenAnyPort(
    accept: (connection: TcpConnection) => TcpHandler,
    core: number,
    admit: (remoteAddress: Ipv4String, localPort: number) => boolean,
  ): TcpListener;
}

/**
 * What the runtime may use of a NetworkManager's root. Capabilities a stack may lack are optional
 * members, so their absence is typed (the compiler makes the caller handle it) and a caller that
 * needs one names it in its error, with no probing of undeclared members.
 */
export interface NetworkManagerRoot extends EbbRoot<NetworkManager> {
  /** Present on a stack that can serve as the network's gateway. */
  readonly gateway?: GatewayCapability;
  /**
   * A stack that comes up asynchronously (driver bring-up, a DHCP lease) calls `ok` once it can
   * carry traffic, or `fail` if it never will. Absent: ready once installed.
   */
  whenReady?(ok: () => void, fail: (error: Error) => void): void;
  /**
   * Present on a stack that can report its counters, drop reasons and connections (a tool's
   * snapshot, e.g. `ebbrt run --ui`): read on demand, outside any event, never kept for the tool.
   */
  networkStats?(): NetworkStats;
}
