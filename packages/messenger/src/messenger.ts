/**
 * The Messenger: sends a message to an Ebb on another node over one lazily opened TCP
 * connection per peer, written only against the NetworkManager interface.
 *
 * Cores. Every connection is bound to one core (the stack's `conn.core`: the core that opened
 * it, or the one the stack chose for an accepted connection) and all of its state — the queue
 * of sends waiting for the connection to open, the frame decoder, the TCP connection itself —
 * is only touched by events on that core. A send from another core hops there with
 * `EventManager.spawnRemote` (FIFO per core pair, so each core's sends keep their order) and
 * its promise is a `CorePromise` of the sending core, so the sender's `await` resumes where it
 * started. The per-peer table (which connection sends to which node) and the handler tables are
 * node-wide, on the root, like EbbRT's Messenger's connection map; they are read from any core
 * and written only in whole events (one JS thread: an event is atomic; a threaded port would
 * put EbbRT's spinlock here). Counters are per core and summed on read.
 */
import { EbbRef, cpu, type NodeContext } from '@ebbrt/core-translation';
import {
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  UsageError,
  isValidEbbId,
  type CoreInfo,
  type CorePromise,
  type EbbId,
  type MessengerRoot as MessengerRootContract,
  type EventManager,
  type EventManagerRoot,
  type MessageHandler,
  type MessageTypeFaultHandler,
  type Messenger,
  type NetworkManager,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
} from '@ebbrt/interfaces';
import { FrameDecoder, HEADER_BYTES, encodeFrame, encodeHello, type DecodeError } from './frame.js';
import type { MessengerOptions } from './options.js';
import { CoreStats, sumStats, type MessengerStats } from './stats.js';

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const RESOLVED: Promise<void> = Promise.resolve();
/** Frames gathered before they are handed to the transport in one call. */
const BATCH_BYTES = 64 * 1024;
/** Frames up to this size are copied into a gather buffer rather than chained. */
const SMALL_FRAME_BYTES = 512;
const GATHER_BYTES = 16 * 1024;

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

/** Parses "host:port". */
export function parsePeerAddress(spec: string): PeerAddress {
  const i = spec.lastIndexOf(':');
  const port = Number(spec.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new RangeError(`peer address "${spec}" is not host:port (port 1..65535)`);
  }
  return { address: spec.slice(0, i), port };
}

/** Node-wide record of one peer: the connection sends go on, and every live connection with it. */
interface Peer {
  sendChannel: Channel | undefined;
  readonly channels: Set<Channel>;
}

/** A send waiting for its connection to open; it owns `frame`. */
interface Waiting {
  frame: IOBuf;
  ebbId: number;
  bytes: number;
  resolve(): void;
  reject(error: Error): void;
}

type ChannelState = 'connecting' | 'open' | 'shutdown' | 'dead';

/** One TCP connection with a peer. Only events on `core` touch it. */
class Channel implements TcpHandler {
  state: ChannelState;
  conn!: TcpConnection;
  /** The peer: known up front for connections we open, from the HELLO for accepted ones. */
  peer: number | undefined;
  readonly decoder: FrameDecoder;
  private waiting: Waiting[] = [];
  private batch: IOBuf | null = null;
  /** The batch's last element when it is a gather buffer with room for more small frames. */
  private tail: IOBuf | null = null;
  private batchBytes = 0;
  private flushScheduled = false;
  private shutdownRequested = false;
  private readonly onDead: (() => void)[] = [];

  constructor(
    private readonly root: MessengerRoot,
    readonly outgoing: boolean,
    peer: number | undefined,
  ) {
    this.state = outgoing ? 'connecting' : 'open';
    this.peer = peer;
    this.decoder = new FrameDecoder(root.options.maxMessageBytes, {
      hello: (id) => this.hello(id),
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
   * core), or as soon as 64 KiB are gathered: a stack that makes one segment per `send` call
   * (our lwIP port has no Nagle) then sends full segments instead of one tiny one per message.
   */
  private transmit(frame: IOBuf, bytes: number): void {
    const s = this.root.coreStats().peer(this.peer!);
    s.messagesSent++;
    s.bytesSent += bytes;
    const frameBytes = bytes + HEADER_BYTES;
    if (frameBytes <= SMALL_FRAME_BYTES) {
      // Small frames are copied into one buffer: one element per batch instead of two per message.
      let tail = this.tail;
      if (tail === null || tail.tailroom() < frameBytes) {
        tail = IOBuf.allocate(GATHER_BYTES, { length: 0 });
        this.tail = tail;
        if (this.batch === null) this.batch = tail;
        else this.batch.appendChain(tail);
      }
      const at = tail.offset + tail.length;
      tail.append(frameBytes);
      const dst = tail.bytes;
      let off = at;
      let e = frame;
      do {
        dst.set(e.bytes.subarray(e.offset, e.offset + e.length), off);
        off += e.length;
        e = e.next;
      } while (e !== frame);
      frame.releaseChain();
    } else {
      this.tail = null;
      if (this.batch === null) this.batch = frame;
      else this.batch.appendChain(frame);
    }
    this.batchBytes += frameBytes;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
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
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    this.tail = null;
    this.batchBytes = 0;
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
    this.conn.sendQueued(encodeHello(this.root.networkId));
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

  private hello(networkId: number): string | undefined {
    if (this.outgoing && networkId !== this.peer) {
      return `expected node ${this.peer} at ${this.conn.remoteAddress}:${this.conn.remotePort} but its HELLO says node ${networkId}`;
    }
    if (!this.outgoing) {
      if (networkId === this.root.networkId) return `HELLO claims this node's own id ${networkId}`;
      this.peer = networkId;
      this.root.coreStats().peer(networkId).connectionsAccepted++;
      this.root.attach(this);
    }
    return undefined;
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
    if (this.batch !== null) {
      this.batch.releaseChain();
      this.batch = null;
      this.tail = null;
    }
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

/**
 * The Messenger's root: one per node, holding the peer directory, the connections and the
 * handler tables. `handleFault` gives each core its own {@link MessengerRep}.
 */
export class MessengerRoot implements MessengerRootContract {
  readonly networkId: number;
  /** Settles (on `listenCore`) once the listener is bound; rejects if it could not be. */
  readonly listening: Promise<void>;
  private resolveListening!: () => void;
  private rejectListening!: (error: unknown) => void;
  private listener: TcpListener | undefined;
  private started = false;
  private stopped = false;
  private readonly reps: (MessengerRep | undefined)[];
  private readonly perCore: CoreStats[];
  private readonly directory = new Map<number, PeerAddress>();
  /** Nodes forgotten because they died or were freed (for a clearer error than "unknown"). */
  private readonly gone = new Set<number>();
  private readonly peers = new Map<number, Peer>();
  private readonly handlers = new Map<EbbId, MessageHandler>();
  private readonly types = new Map<number, MessageTypeFaultHandler>();
  private readonly loggedDrops = new Set<EbbId>();
  private readonly incoming = new Set<Channel>();

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    readonly options: MessengerOptions,
    private readonly logLine: (line: string) => void = () => {},
  ) {
    this.networkId = options.networkId ?? node.id;
    this.reps = new Array<MessengerRep | undefined>(node.numCores).fill(undefined);
    this.perCore = Array.from({ length: node.numCores }, () => new CoreStats());
    if (!Number.isInteger(options.listenCore) || options.listenCore < 0 || options.listenCore >= node.numCores) {
      throw new RangeError(`messenger: listenCore ${options.listenCore} is not a core of node ${node.id} (it has ${node.numCores})`);
    }
    for (const [id, spec] of Object.entries(options.peers)) {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`messenger: peers key "${id}" is not a network id`);
      const { address, port } = parsePeerAddress(spec);
      this.setPeer(n, address, port);
    }
    this.listening = new Promise<void>((resolve, reject) => {
      this.resolveListening = resolve;
      this.rejectListening = reject;
    });
    this.listening.catch(() => {});
    // Start listening as soon as the node runs events (the Event Manager may be installed later).
    if (this.eventManagerRoot() !== undefined) this.start();
  }

  handleFault(core: CoreInfo): MessengerRep {
    if (!this.started) this.start();
    const rep = new MessengerRep(this, core.index);
    this.reps[core.index] = rep;
    return rep;
  }

  /** The bound listen port (the real one once {@link listening} has resolved). */
  get port(): number {
    return this.listener?.port ?? this.options.port;
  }

  /**
   * Starts the listener with an event on `listenCore` (called by the constructor when an Event
   * Manager is installed, else on first use). Idempotent.
   */
  start(): void {
    if (this.started || this.stopped) return;
    const em = this.eventManagerRoot();
    if (em === undefined) {
      throw new UsageError(`messenger on node ${this.node.id}: no EventManager with post() is installed`);
    }
    this.started = true;
    em.post(this.options.listenCore, () => {
      if (this.stopped) return;
      try {
        const l = nmRef.deref().tcpListen(this.options.port, (conn) => this.accept(conn));
        this.listener = l;
        l.listening.then(
          () => this.resolveListening(),
          (e: unknown) => {
            this.log(`cannot listen on port ${this.options.port}: ${(e as Error).message}`);
            this.rejectListening(e);
          },
        );
      } catch (e) {
        this.log(`cannot listen on port ${this.options.port}: ${(e as Error).message}`);
        this.rejectListening(e);
      }
    });
  }

  // ------------------------------------------------------------ directory

  /** Where node `networkId`'s Messenger listens. Node ids are not addresses: the runtime fills this. */
  setPeer(networkId: number, address: string, port: number): void {
    if (!Number.isInteger(networkId) || networkId < 0 || networkId > 0xffffffff) {
      throw new RangeError(`setPeer: ${networkId} is not a network id`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`setPeer: port ${port} is not 1..65535`);
    this.directory.set(networkId, { address, port });
    this.gone.delete(networkId);
  }

  peerAddress(networkId: number): PeerAddress | undefined {
    return this.directory.get(networkId);
  }

  /**
   * Forgets a node that is gone (freed or dead): drops its address and closes its connections, so
   * it is no longer among {@link peerIds} and later sends reject at once naming it.
   */
  forgetPeer(networkId: number): void {
    if (!this.directory.delete(networkId)) return;
    this.gone.add(networkId);
    // The node is dead or freed: nothing will answer, so abort rather than wait for FINs.
    const peer = this.peers.get(networkId);
    if (peer === undefined) return;
    peer.sendChannel = undefined;
    for (const c of [...peer.channels]) {
      this.onCore(c.core, () => {
        if (c.state === 'dead') return;
        c.conn.abort();
        c.die(new NodeUnavailableError(networkId, 'the node is gone (freed or dead)'), true);
      });
    }
  }

  /** Every other node this one has an address for, ascending. */
  peerIds(): number[] {
    return [...this.directory.keys()].filter((id) => id !== this.networkId).sort((a, b) => a - b);
  }

  // ------------------------------------------------------------ handlers

  register(ebbId: EbbId, handler: MessageHandler): void {
    if (!isValidEbbId(ebbId)) throw new RangeError(`register: ${ebbId} is not a valid EbbId`);
    this.handlers.set(ebbId, handler);
  }

  unregister(ebbId: EbbId): void {
    this.handlers.delete(ebbId);
  }

  registerType(typeCode: number, fault: MessageTypeFaultHandler): void {
    if (!Number.isInteger(typeCode) || typeCode < 0 || typeCode > 0xffffffff) {
      throw new RangeError(`registerType: type code ${typeCode} is not a u32`);
    }
    if (this.types.has(typeCode)) throw new UsageError(`registerType: type code ${typeCode} is already registered on node ${this.node.id}`);
    this.types.set(typeCode, fault);
  }

  // ------------------------------------------------------------ sending

  /** `send` of the rep of `core` (the calling core). Takes ownership of `message`. */
  send(core: number, networkId: number, ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void> {
    if (!isValidEbbId(ebbId) || !Number.isInteger(typeCode) || typeCode < 0 || typeCode > 0xffffffff) {
      message.releaseChain();
      return Promise.reject(new RangeError(`send: bad ebbId ${ebbId} or type code ${typeCode}`));
    }
    const bytes = message.computeChainDataLength();
    if (bytes > this.options.maxMessageBytes) {
      message.releaseChain();
      return Promise.reject(new RangeError(`send: a ${bytes}-byte message exceeds maxMessageBytes (${this.options.maxMessageBytes})`));
    }
    if (networkId === this.networkId) return this.sendLocal(ebbId, typeCode, message);
    return this.route(core, networkId, encodeFrame(ebbId, typeCode, message), ebbId, bytes);
  }

  /** Sends `frame` on the peer's connection: here if it lives on `core`, else hops to its core. */
  private route(core: number, networkId: number, frame: IOBuf, ebbId: number, bytes: number): Promise<void> {
    if (this.stopped) {
      frame.releaseChain();
      return Promise.reject(new NodeUnavailableError(networkId, `the messenger of node ${this.networkId} is stopped`));
    }
    let channel = this.peers.get(networkId)?.sendChannel;
    if (channel === undefined) {
      const opened = this.open(networkId);
      if (opened instanceof Error) {
        frame.releaseChain();
        this.coreStats().peer(networkId).sendsFailed++;
        return Promise.reject(opened);
      }
      channel = opened;
    }
    if (channel.core === core) return channel.submit(frame, ebbId, bytes);
    const done: CorePromise<void> = emRef.deref().promise<void>();
    emRef.deref().spawnRemote(() => {
      this.route(channel.core, networkId, frame, ebbId, bytes).then(
        () => done.resolve(),
        (e: unknown) => done.reject(e),
      );
    }, channel.core);
    return done.promise;
  }

  /** Opens a connection to `networkId` on the calling core. */
  private open(networkId: number): Channel | NodeUnavailableError {
    const where = this.directory.get(networkId);
    if (where === undefined) {
      if (this.gone.has(networkId)) return new NodeUnavailableError(networkId, 'the node is gone (freed or dead)');
      return new NodeUnavailableError(networkId, `no address known for it on node ${this.networkId} (setPeer or the peers option)`);
    }
    const channel = new Channel(this, true, networkId);
    try {
      channel.conn = nmRef.deref().tcpConnect(where.address, where.port, channel);
    } catch (e) {
      const detail = `cannot connect to ${where.address}:${where.port}: ${(e as Error).message}`;
      this.log(`node ${networkId}: ${detail}`);
      return new NodeUnavailableError(networkId, detail);
    }
    const peer = this.peer(networkId);
    peer.channels.add(channel);
    peer.sendChannel = channel;
    this.coreStats().peer(networkId).connectionsOpened++;
    return channel;
  }

  private sendLocal(ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void> {
    this.coreStats().localDeliveries++;
    emRef.deref().spawn(() => this.deliver(this.networkId, ebbId, typeCode, message), { async: true });
    return RESOLVED;
  }

  // ------------------------------------------------------------ connections

  private accept(conn: TcpConnection): TcpHandler {
    const channel = new Channel(this, false, undefined);
    channel.conn = conn;
    if (this.stopped) {
      conn.abort();
      channel.die(new NodeUnavailableError(-1, 'messenger stopped'), false);
      return channel;
    }
    this.incoming.add(channel);
    conn.sendQueued(encodeHello(this.networkId));
    return channel;
  }

  private peer(networkId: number): Peer {
    let p = this.peers.get(networkId);
    if (p === undefined) {
      p = { sendChannel: undefined, channels: new Set() };
      this.peers.set(networkId, p);
    }
    return p;
  }

  /** An accepted connection said HELLO: it is the peer's, and carries our sends if none does. */
  attach(channel: Channel): void {
    this.incoming.delete(channel);
    const peer = this.peer(channel.peer!);
    peer.channels.add(channel);
    // Keep the connection sends already use (per-sender order); both connections stay up when
    // the two nodes connected to each other at once, each carrying one direction.
    peer.sendChannel ??= channel;
  }

  unsetSendChannel(channel: Channel): void {
    if (channel.peer === undefined) return;
    const peer = this.peers.get(channel.peer);
    if (peer?.sendChannel === channel) peer.sendChannel = undefined;
  }

  detach(channel: Channel): void {
    this.incoming.delete(channel);
    this.unsetSendChannel(channel);
    if (channel.peer !== undefined) this.peers.get(channel.peer)?.channels.delete(channel);
  }

  /**
   * Gracefully closes every connection with `networkId` (flush, FIN, wait for the peer's FIN).
   * Resolves on the calling core once they are all gone; a later send opens a new one.
   */
  close(networkId: number): Promise<void> {
    const channels = [...(this.peers.get(networkId)?.channels ?? [])];
    const peer = this.peers.get(networkId);
    if (peer !== undefined) peer.sendChannel = undefined;
    if (channels.length === 0) return RESOLVED;
    const done = cpu.current?.node === this.node ? emRef.deref().promise<void>() : plainPromise<void>();
    let left = channels.length;
    const one = (): void => {
      if (--left === 0) done.resolve();
    };
    for (const c of channels) this.onCore(c.core, () => {
      c.whenDead(one);
      c.shutdown();
    });
    return done.promise;
  }

  /**
   * Stops the Messenger (node shutdown, tests): closes the listener and aborts every
   * connection; pending sends reject. Later sends reject.
   */
  stop(): void {
    this.stopped = true;
    this.rejectListening(new UsageError('messenger stopped'));
    const all = new Set<Channel>(this.incoming);
    for (const p of this.peers.values()) for (const c of p.channels) all.add(c);
    for (const c of all) {
      this.onCore(c.core, () => {
        if (c.state === 'dead') return;
        c.conn.abort();
        c.die(new NodeUnavailableError(c.peer ?? -1, `the messenger of node ${this.networkId} stopped`), false);
      });
    }
    const l = this.listener;
    if (l !== undefined) this.onCore(this.options.listenCore, () => l.close());
  }

  /** Live connections (for tests and stats). */
  connections(): { peer: number | undefined; outgoing: boolean; state: string; core: number }[] {
    const all = new Set<Channel>(this.incoming);
    for (const p of this.peers.values()) for (const c of p.channels) all.add(c);
    return [...all].map((c) => ({ peer: c.peer, outgoing: c.outgoing, state: c.state, core: c.core }));
  }

  // ------------------------------------------------------------ receiving

  /** Delivers a message on the current core. Owns `payload` until a handler takes it. */
  deliver(from: number, ebbId: EbbId, typeCode: number, payload: IOBuf): void {
    const stats = this.coreStats();
    if (from !== this.networkId) {
      const s = stats.peer(from);
      s.messagesReceived++;
      s.bytesReceived += payload.computeChainDataLength();
    }
    let handler = this.handlers.get(ebbId);
    if (handler === undefined) {
      const fault = this.types.get(typeCode) ?? this.messagableFault(ebbId);
      if (fault === undefined) {
        stats.dropsNoHandler++;
        payload.releaseChain();
        if (!this.loggedDrops.has(ebbId)) {
          this.loggedDrops.add(ebbId);
          this.log(`dropping messages from node ${from} for Ebb 0x${ebbId.toString(16)} (type ${typeCode}): no handler and no type registered (logged once per Ebb)`);
        }
        return;
      }
      try {
        stats.typeFaults++;
        handler = fault(ebbId, from);
      } catch (e) {
        stats.handlerErrors++;
        payload.releaseChain();
        this.log(`type ${typeCode} fault handler for Ebb 0x${ebbId.toString(16)} threw: ${(e as Error).message}`);
        return;
      }
      this.handlers.set(ebbId, handler);
    }
    try {
      handler(from, typeCode, payload);
    } catch (e) {
      stats.handlerErrors++;
      this.log(`handler of Ebb 0x${ebbId.toString(16)} threw on a message from node ${from}: ${(e as Error).message}`);
    }
  }

  /**
   * EbbRT's Messagable: an Ebb installed on this node whose rep has `receiveMessage(from, typeCode,
   * message)` gets its messages without registering, each on the receiving core's own rep (the
   * dereference faults the rep in on first use). System Ebbs (the Event Manager's getNum) use this.
   */
  private messagableFault(ebbId: EbbId): MessageTypeFaultHandler | undefined {
    if (this.node.localIdMap.get(ebbId) === undefined) return undefined;
    const ref = new EbbRef<Partial<MessagableRep>>(ebbId);
    if (typeof ref.deref().receiveMessage !== 'function') return undefined;
    return () => (from, typeCode, message) => (ref.deref() as MessagableRep).receiveMessage(from, typeCode, message);
  }

  // ------------------------------------------------------------ misc

  stats(): MessengerStats {
    return sumStats(this.perCore);
  }

  /** The calling core's counters. */
  coreStats(): CoreStats {
    const core = cpu.current;
    return this.perCore[core !== undefined && core.node === this.node ? core.index : 0]!;
  }

  log(line: string): void {
    this.logLine(`messenger node ${this.networkId}: ${line}`);
  }

  private onCore(core: number, fn: () => void): void {
    const current = cpu.current;
    if (current !== undefined && current.node === this.node && current.index === core) fn();
    else this.eventManagerRoot()!.post(core, fn);
  }

  private eventManagerRoot(): EventManagerRoot | undefined {
    const root = this.node.localIdMap.get(SystemEbbIds.EventManager) as Partial<EventManagerRoot> | undefined;
    return typeof root?.post === 'function' ? (root as EventManagerRoot) : undefined;
  }
}

function plainPromise<T>(): CorePromise<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What a core sees through `EbbRef<Messenger>`: the node's Messenger, acting as this core. */
export class MessengerRep implements Messenger {
  constructor(
    readonly root: MessengerRoot,
    readonly core: number,
  ) {}

  /** Takes ownership of `message`. Resolves on this core once the transport accepted it. */
  send(networkId: number, ebbId: EbbId, typeCode: number, message: IOBuf): Promise<void> {
    return this.root.send(this.core, networkId, ebbId, typeCode, message);
  }

  register(ebbId: EbbId, handler: MessageHandler): void {
    this.root.register(ebbId, handler);
  }

  registerType(typeCode: number, fault: MessageTypeFaultHandler): void {
    this.root.registerType(typeCode, fault);
  }

  unregister(ebbId: EbbId): void {
    this.root.unregister(ebbId);
  }

  close(networkId: number): Promise<void> {
    return this.root.close(networkId);
  }

  setPeer(networkId: number, address: string, port: number): void {
    this.root.setPeer(networkId, address, port);
  }

  peers(): number[] {
    return this.root.peerIds();
  }

  get networkId(): number {
    return this.root.networkId;
  }

  stats(): MessengerStats {
    return this.root.stats();
  }
}

/** A rep that receives messages without registering (see MessengerRoot.messagableFault). */
interface MessagableRep {
  receiveMessage(from: number, typeCode: number, message: IOBuf): void;
}
