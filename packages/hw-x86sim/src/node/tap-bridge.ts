import { createSocket, type Socket } from 'node:dgram';
import type { Simulation } from '../simulation.js';
import { ETH_HEADER_BYTES, type FramePort, type NetworkEndpoint } from '../net/frame.js';
import { MAX_PACKED_DATAGRAM, unpackFrames, type PackedError } from './packed-frames.js';

export interface UdpTapBridgeOptions {
  /** Local UDP port to bind on `host`; 0 (default) = ephemeral, read `.port` after `open`. */
  port?: number;
  /** Local address to bind. Default '127.0.0.1'. */
  host?: string;
  /** Peer (socat's UDP side). Default: learned from the first datagram received. */
  peer?: { address: string; port: number };
  /**
   * SO_RCVBUF / SO_SNDBUF of the socket in bytes (Linux caps them at net.core.rmem_max /
   * wmem_max). Default 4 MiB each: bursts of a few hundred frames (a window of segments, 64
   * memcaslap connections answering at once) overflowed the default ~208 KiB and were lost.
   * 0 keeps the system default.
   */
  recvBufferBytes?: number;
  sendBufferBytes?: number;
  /**
   * 'frame' (default): one raw Ethernet frame per datagram, as socat carries them. 'packed':
   * several frames per datagram, each as [u16 big-endian length][frame] (the peer is
   * host-network's ebbrt-tap-bridge helper): the frames sent in one macrotask leave in one
   * datagram (up to 65,507 B), so a burst costs one syscall instead of one per frame.
   */
  framing?: 'frame' | 'packed';
}

/** Packed framing: length headers of one datagram come from one slab (not an array per frame). */
const HEADER_SLAB_BYTES = 2 * Math.ceil(MAX_PACKED_DATAGRAM / (2 + ETH_HEADER_BYTES));

const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Counters of a `UdpTapBridge`. */
export interface UdpTapBridgeStats {
  /** Datagrams received and posted into the simulation as frames. */
  rxDatagrams: number;
  /** Datagrams ignored (runts shorter than an Ethernet header, or from a foreign address once a peer is known). */
  rxIgnored: number;
  /** Frames sent as datagrams. */
  txDatagrams: number;
  /** Frames dropped because no peer is known yet, the socket is closed, or send failed (an 'error' on the socket). */
  txDropped: number;
  /** Packed framing: datagrams sent (each carries one or more frames). */
  txPackedDatagrams: number;
  /** Packed framing: datagrams received whole (their frames count in rxDatagrams). */
  rxPackedDatagrams: number;
  /** Packed framing: malformed datagrams rejected whole (none of their frames delivered), by reason. */
  rxBadPacked: Record<PackedError, number>;
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
  readonly stats: UdpTapBridgeStats = {
    rxDatagrams: 0,
    rxIgnored: 0,
    txDatagrams: 0,
    txDropped: 0,
    txPackedDatagrams: 0,
    rxPackedDatagrams: 0,
    rxBadPacked: { 'empty-datagram': 0, 'short-header': 0, 'empty-record': 0, overrun: 0 },
  };
  private readonly packed: boolean;
  /** Packed framing: [header, frame, header, frame, ...] waiting for the end of the macrotask. */
  private outList: Uint8Array[] = [];
  private outBytes = 0;
  /** The headers of the datagram being built are views of this slab (a fresh one per datagram: the kernel reads it later). */
  private headers = new Uint8Array(HEADER_SLAB_BYTES);
  private headersUsed = 0;
  private flushScheduled = false;
  private readonly sim: Simulation;
  private readonly socket: Socket;
  private tx: FramePort | null = null;
  private peer: { address: string; port: number } | null;
  private closed = false;
  private _port = 0;
  /** Frames received from the kernel and not yet delivered: one posted drain per burst, not a closure per datagram. */
  private inbox: Uint8Array[] = [];
  private inboxSpare: Uint8Array[] = [];

  private constructor(sim: Simulation, socket: Socket, peer: { address: string; port: number } | null, packed: boolean) {
    this.sim = sim;
    this.socket = socket;
    this.peer = peer;
    this.packed = packed;
  }

  /** Bind the socket and return the bridge. */
  static open(sim: Simulation, options: UdpTapBridgeOptions = {}): Promise<UdpTapBridge> {
    const socket = createSocket('udp4');
    const bridge = new UdpTapBridge(sim, socket, options.peer ?? null, options.framing === 'packed');
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        socket.off('error', onError);
        socket.on('error', () => {
          // ICMP port unreachable, a failed send etc.: the frame is lost, as on a wire. Sends
          // carry no callback (see receive), so their failures arrive here.
          bridge.stats.txDropped++;
        });
        bridge._port = socket.address().port;
        const setBuffer = (bytes: number | undefined, set: (n: number) => void): void => {
          const n = bytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
          if (n <= 0) return;
          try {
            set(n);
          } catch {
            /* not permitted here: keep the system default */
          }
        };
        setBuffer(options.recvBufferBytes, (n) => socket.setRecvBufferSize(n));
        setBuffer(options.sendBufferBytes, (n) => socket.setSendBufferSize(n));
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

  /** Sets the peer (a helper that printed its port), instead of learning it from the first datagram. */
  setPeer(peer: { address: string; port: number }): void {
    this.peer = { address: peer.address, port: peer.port };
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
    if (this.packed) {
      this.queuePacked(frame);
      return;
    }
    // No copy: frames on the fabric are never written after they were sent (the device copies
    // them out of guest memory into a fresh array; a corrupting link corrupts a copy), so the
    // bytes stay as they are while the send is in flight. And no callback: without one Node
    // tries a synchronous sendto (uv_udp_try_send) before queueing a send request, which in a
    // profile of the memcached library OS was most of this call's cost (one datagram per frame).
    // A failure then surfaces as an 'error' event, counted there.
    this.socket.send(frame, this.peer.port, this.peer.address);
  }

  /**
   * Packed framing: the frame joins the datagram being built; the datagram leaves when it is
   * full or at the end of this macrotask (one setImmediate per burst). No copy: the list of
   * views goes to the kernel as one gathered send.
   */
  private queuePacked(frame: Uint8Array): void {
    if (frame.length === 0 || frame.length > 0xffff) {
      this.stats.txDropped++;
      return;
    }
    if (this.outBytes + 2 + frame.length > MAX_PACKED_DATAGRAM || this.headersUsed + 2 > HEADER_SLAB_BYTES) this.flushPacked();
    const at = this.headersUsed;
    const header = this.headers.subarray(at, at + 2);
    this.headersUsed = at + 2;
    header[0] = frame.length >>> 8;
    header[1] = frame.length & 0xff;
    this.outList.push(header, frame);
    this.outBytes += 2 + frame.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushPackedLater);
    }
  }

  private readonly flushPackedLater = (): void => {
    this.flushScheduled = false;
    this.flushPacked();
  };

  private flushPacked(): void {
    if (this.outList.length === 0) return;
    const list = this.outList;
    this.outList = [];
    this.outBytes = 0;
    // The sent list still points into this slab until the send completes: start a new one.
    this.headers = new Uint8Array(HEADER_SLAB_BYTES);
    this.headersUsed = 0;
    if (this.closed || this.peer === null) {
      this.stats.txDropped += list.length >> 1;
      return;
    }
    this.stats.txPackedDatagrams++;
    this.socket.send(list, this.peer.port, this.peer.address);
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
    if (this.packed) {
      this.onPacked(msg);
      return;
    }
    if (msg.length < ETH_HEADER_BYTES) {
      this.stats.rxIgnored++;
      return;
    }
    this.stats.rxDatagrams++;
    // No copy: each received datagram has its own backing store (Node resizes the receive
    // buffer to the datagram), so a plain Uint8Array view of it can be the frame. A view rather
    // than the Buffer itself: Buffer#slice does not copy, and fabric code relies on
    // Uint8Array#slice copying.
    const frame = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    if (this.inbox.push(frame) === 1) this.sim.post(this.deliverInbox);
  }

  /** Packed framing: every record of the datagram is a frame (a view, no copy); a malformed datagram is rejected whole. */
  private onPacked(msg: Buffer): void {
    const { frames, error } = unpackFrames(msg);
    if (error !== undefined) {
      this.stats.rxBadPacked[error]++;
      return;
    }
    this.stats.rxPackedDatagrams++;
    for (const frame of frames) {
      if (frame.length < ETH_HEADER_BYTES) {
        this.stats.rxIgnored++;
        continue;
      }
      this.stats.rxDatagrams++;
      if (this.inbox.push(frame) === 1) this.sim.post(this.deliverInbox);
    }
  }

  /** A hardware event: the frames of one burst, in arrival order. */
  private readonly deliverInbox = (): void => {
    const batch = this.inbox;
    this.inbox = this.inboxSpare;
    this.inboxSpare = batch;
    try {
      for (let i = 0; i < batch.length; i++) this.tx?.receive(batch[i]!);
    } finally {
      batch.length = 0;
    }
  };
}
