/**
 * One TCP connection with a peer (a Channel), and its HELLO handshake. Every channel is bound to
 * one core (the stack's `conn.core`: the core that opened it, or the one the stack chose for an
 * accepted connection) and all of its state — the sends waiting for it to open, the frame
 * decoder, the gathered frames, the TCP connection itself — is only touched by events on that core.
 */
import { IOBuf, NodeUnavailableError, type EbbId, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { FrameDecoder, HEADER_BYTES, HELLO_MAGIC, PROTOCOL_VERSION, encodeHello, type DecodeError } from './frame.js';
import { SendBatch } from './gather.js';
import type { CoreStats } from './stats.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** What a channel needs of its Messenger (the root). */
export interface ChannelHost {
  readonly networkId: number;
  /** This node's restarts so far (sent in its HELLO when > 0). */
  readonly incarnation: number;
  readonly options: { readonly maxMessageBytes: number };
  /** The calling core's counters. */
  coreStats(): CoreStats;
  log(line: string): void;
  /** Delivers a received message on the current core; owns `payload`. */
  deliver(from: number, ebbId: EbbId, typeCode: number, payload: IOBuf): void;
  /** An accepted channel's HELLO named its peer. */
  attach(channel: Channel): void;
  /** Any channel's HELLO arrived (after `attach` for an accepted one); a reason refuses it. */
  greeted(channel: Channel): string | undefined;
  /** The channel is closing: sends must no longer use it. */
  unsetSendChannel(channel: Channel): void;
  /** The channel is dead. */
  detach(channel: Channel): void;
}

/** A send waiting for its connection to open; it owns `frame`. */
interface Waiting {
  frame: IOBuf;
  ebbId: number;
  bytes: number;
  resolve(): void;
  reject(error: Error): void;
}

export type ChannelState = 'connecting' | 'open' | 'shutdown' | 'dead';

/** One TCP connection with a peer. Only events on `core` touch it. */
export class Channel implements TcpHandler {
  state: ChannelState;
  conn!: TcpConnection;
  /** The peer: known up front for connections we open, from the HELLO for accepted ones. */
  peer: number | undefined;
  /** The peer's incarnation from its HELLO (undefined until the HELLO arrives). */
  peerIncarnation: number | undefined;
  readonly decoder: FrameDecoder;
  private waiting: Waiting[] = [];
  private readonly batch = new SendBatch();
  private flushScheduled = false;
  private shutdownRequested = false;
  private readonly onDead: (() => void)[] = [];

  constructor(
    private readonly root: ChannelHost,
    readonly outgoing: boolean,
    peer: number | undefined,
  ) {
    this.state = outgoing ? 'connecting' : 'open';
    this.peer = peer;
    this.decoder = new FrameDecoder(root.options.maxMessageBytes, {
      hello: (id, incarnation) => this.hello(id, incarnation),
      message: (ebbId, typeCode, payload) => root.deliver(this.peer!, ebbId, typeCode, payload),
    });
  }

  get core(): number {
    return this.conn.core;
  }

  /** "node 3 (10.0.0.3:7000)" or "unidentified peer 10.0.0.3:49152". */
  get label(): string {
    const where = this.conn === undefined ? '' : `${this.conn.remoteAddress}:${this.conn.remotePort}`;
    return this.peer === undefined ? `unidentified peer ${where}` : `node ${this.peer} (${where})`;
  }

  /** Hands a frame to the transport now, or queues it until the connection opens. Owns `frame`. */
  submit(frame: IOBuf, ebbId: number, bytes: number): Promise<void> {
    if (this.state === 'open') {
      this.transmit(frame, bytes);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => this.waiting.push({ frame, ebbId, bytes, resolve, reject }));
  }

  /**
   * Hands a frame to the transport. Frames handed over in one event are gathered into one chain
   * and given to `sendQueued` at once (from a microtask of the same event, so still on this
   * core), or as soon as 64 KiB are gathered (see gather.ts).
   */
  private transmit(frame: IOBuf, bytes: number): void {
    const s = this.root.coreStats().peer(this.peer!);
    s.messagesSent++;
    s.bytesSent += bytes;
    if (this.batch.add(frame, bytes + HEADER_BYTES)) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      RESOLVED.then(this.flushLater);
    }
  }

  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Gives the gathered frames to the transport. */
  flush(): void {
    const batch = this.batch.take();
    if (batch === null) return;
    if (this.state === 'dead') {
      batch.releaseChain();
      return;
    }
    try {
      this.conn.sendQueued(batch);
    } catch (e) {
      // The stack closed the connection under us; its aborted/closed callback follows.
      this.root.log(`send to ${this.label} failed: ${(e as Error).message}`);
      if (!batch.isReleased) batch.releaseChain();
    }
  }

  /** Graceful close: flush, FIN, keep receiving until the peer's FIN. */
  shutdown(): void {
    if (this.state === 'connecting') {
      this.shutdownRequested = true;
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'shutdown';
    this.root.unsetSendChannel(this);
    this.flush();
    this.conn.shutdown();
  }

  whenDead(fn: () => void): void {
    if (this.state === 'dead') fn();
    else this.onDead.push(fn);
  }

  // ------------------------------------------------------------ TcpHandler

  connected(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.conn.sendQueued(encodeHello(this.root.networkId, HELLO_MAGIC, PROTOCOL_VERSION, this.root.incarnation));
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) {
      this.transmit(w.frame, w.bytes);
      w.resolve();
    }
    if (this.shutdownRequested) this.shutdown();
  }

  receive(_conn: TcpConnection, data: IOBuf): void {
    if (this.state === 'dead') {
      data.releaseChain();
      return;
    }
    const error = this.decoder.push(data);
    if (error !== undefined) this.protocolError(error);
  }

  closed(): void {
    // The peer sent FIN: it will send nothing more; flush ours and finish the close.
    if (this.state === 'dead') return;
    this.flush();
    this.conn.close();
    this.die(new NodeUnavailableError(this.peer ?? -1, `${this.label} closed the connection`), false);
  }

  aborted(_conn: TcpConnection, reason: Error): void {
    if (this.state === 'dead') return;
    const code = (reason as { code?: unknown }).code;
    const detail = `connection to ${this.label} ${this.state === 'connecting' ? 'could not be opened' : 'was lost'}: ${reason.message}${typeof code === 'string' && !reason.message.includes(code) ? ` (${code})` : ''}`;
    this.root.log(detail);
    this.die(new NodeUnavailableError(this.peer ?? -1, detail), true);
  }

  // ------------------------------------------------------------ internals

  /**
   * The peer's HELLO (the first frame in both directions). The opener checks it names the node it
   * meant to reach; an accepted connection learns its peer from it.
   */
  private hello(networkId: number, incarnation: number): string | undefined {
    if (this.outgoing && networkId !== this.peer) {
      return `expected node ${this.peer} at ${this.conn.remoteAddress}:${this.conn.remotePort} but its HELLO says node ${networkId}`;
    }
    this.peerIncarnation = incarnation;
    if (!this.outgoing) {
      if (networkId === this.root.networkId) return `HELLO claims this node's own id ${networkId}`;
      this.peer = networkId;
      this.root.coreStats().peer(networkId).connectionsAccepted++;
      this.root.attach(this);
    }
    return this.root.greeted(this);
  }

  private protocolError(error: DecodeError): void {
    this.root.coreStats().protocolErrors++;
    const detail = `closing the connection with ${this.label}: ${error.message}`;
    this.root.log(detail);
    this.conn.abort();
    this.die(new NodeUnavailableError(this.peer ?? -1, detail), true);
  }

  /** Drops the connection's state, rejects what never reached the transport. */
  die(reason: NodeUnavailableError, failed: boolean): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.decoder.dispose();
    this.batch.release();
    this.root.detach(this);
    const stats = this.peer === undefined ? undefined : this.root.coreStats().peer(this.peer);
    if (failed && stats !== undefined) stats.connectionsFailed++;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) {
      w.frame.releaseChain();
      if (stats !== undefined) stats.sendsFailed++;
      w.reject(reason);
    }
    for (const fn of this.onDead.splice(0)) fn();
  }
}
