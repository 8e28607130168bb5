import { createSocket, type Socket } from 'node:dgram';
import type { Simulation } from '../simulation.js';
import { ETH_HEADER_BYTES, type FramePort, type NetworkEndpoint } from './frame.js';

export interface UdpTapBridgeOptions {
  /** Local UDP port to bind on `host`; 0 (default) = ephemeral, read `.port` after `open`. */
  port?: number;
  /** Local address to bind. Default '127.0.0.1'. */
  host?: string;
  /** Peer (socat's UDP side). Default: learned from the first datagram received. */
  peer?: { address: string; port: number };
}

/** Counters of a `UdpTapBridge`. */
export interface UdpTapBridgeStats {
  /** Datagrams received and posted into the simulation as frames. */
  rxDatagrams: number;
  /** Datagrams ignored (runts shorter than an Ethernet header, or from a foreign address once a peer is known). */
  rxIgnored: number;
  /** Frames sent as datagrams. */
  txDatagrams: number;
  /** Frames dropped because no peer is known yet, the socket is closed, or send failed. */
  txDropped: number;
}

/**
 * An uplink to the real world: frames travel as UDP datagrams (one raw Ethernet frame each, no
 * extra header) to and from `socat`, which joins them to a Linux TAP device:
 *
 *   sudo socat TUN:10.0.0.1/24,tun-type=tap,iff-no-pi,up UDP:127.0.0.1:<bridge.port>
 *
 * Plug it into a fabric like a NIC (`fabric.connect(bridge)` or `switch.plug(bridge)`).
 * Incoming datagrams enter the simulation via `sim.post` (they never touch software directly).
 * Useful with `clock: 'realtime'` and `run({ stopWhenIdle: false })`: a virtual clock would
 * race ahead of the kernel's timers.
 */
export class UdpTapBridge implements NetworkEndpoint {
  readonly stats: UdpTapBridgeStats = { rxDatagrams: 0, rxIgnored: 0, txDatagrams: 0, txDropped: 0 };
  private readonly sim: Simulation;
  private readonly socket: Socket;
  private tx: FramePort | null = null;
  private peer: { address: string; port: number } | null;
  private closed = false;
  private _port = 0;

  private constructor(sim: Simulation, socket: Socket, peer: { address: string; port: number } | null) {
    this.sim = sim;
    this.socket = socket;
    this.peer = peer;
  }

  /** Bind the socket and return the bridge. */
  static open(sim: Simulation, options: UdpTapBridgeOptions = {}): Promise<UdpTapBridge> {
    const socket = createSocket('udp4');
    const bridge = new UdpTapBridge(sim, socket, options.peer ?? null);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        socket.off('error', onError);
        socket.on('error', () => {
          /* ICMP port unreachable etc.: the frame is lost, as on a wire. */
        });
        bridge._port = socket.address().port;
        socket.on('message', (msg, rinfo) => bridge.onDatagram(msg, rinfo));
        resolve(bridge);
      });
    });
  }

  /** The bound local UDP port. */
  get port(): number {
    return this._port;
  }

  /** The peer address in use (configured or learned), or null. */
  get peerAddress(): { address: string; port: number } | null {
    return this.peer === null ? null : { ...this.peer };
  }

  attach(tx: FramePort | null): void {
    this.tx = tx;
  }

  /** A frame from the fabric: send it as one datagram to the peer. */
  receive(frame: Uint8Array): void {
    if (this.closed || this.peer === null) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txDatagrams++;
    // Copy: the frame may be shared with other ports and send() is asynchronous.
    this.socket.send(Buffer.from(frame), this.peer.port, this.peer.address, (err) => {
      if (err) this.stats.txDropped++;
    });
  }

  /** Close the socket. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onDatagram(msg: Buffer, rinfo: { address: string; port: number }): void {
    if (this.closed) return;
    if (this.peer === null) this.peer = { address: rinfo.address, port: rinfo.port };
    else if (this.peer.address !== rinfo.address || this.peer.port !== rinfo.port) {
      this.stats.rxIgnored++;
      return;
    }
    if (msg.length < ETH_HEADER_BYTES) {
      this.stats.rxIgnored++;
      return;
    }
    this.stats.rxDatagrams++;
    const frame = new Uint8Array(msg.length);
    frame.set(msg);
    this.sim.post(() => this.tx?.receive(frame));
  }
}
