/**
 * The Messenger's root: one per node. It owns the peer directory, the per-peer connection table
 * (which channel carries sends to which node, like EbbRT's Messenger's connection map), the
 * listener and the dispatcher; `handleFault` gives each core its own {@link MessengerRep}.
 *
 * Cores. A send from a core other than its connection's hops there with
 * `EventManager.spawnRemote` (FIFO per core pair, so each core's sends keep their order) and its
 * promise is a `CorePromise` of the sending core, so the sender's `await` resumes where it
 * started. The tables here are node-wide: read from any core and written only in whole events
 * (one JS thread: an event is atomic; a threaded port would put EbbRT's spinlock here). Counters
 * are per core and summed on read.
 */
import { EbbRef, cpu, type NodeContext } from '@ebbrt/core-translation';
import {
  NodeUnavailableError,
  SystemEbbIds,
  UsageError,
  isValidEbbId,
  type CoreInfo,
  type CorePromise,
  type EbbId,
  type MessengerRoot as MessengerRootContract,
  type MessengerTraffic,
  type EventManager,
  type EventManagerRoot,
  type IOBuf,
  type MessageHandler,
  type MessageTypeFaultHandler,
  type NetworkManager,
  type TcpConnection,
  type TcpHandler,
  type TcpListener,
} from '@ebbrt/interfaces';
import { Channel, type ChannelHost } from './channel.js';
import { PeerDirectory, type PeerAddress } from './directory.js';
import { Dispatcher } from './dispatch.js';
import { HELLO_MAGIC, PROTOCOL_VERSION, encodeFrame, encodeHello } from './frame.js';
import type { MessengerOptions } from './options.js';
import { MessengerRep } from './rep.js';
import { CoreStats, sumStats, trafficOf, type MessengerStats } from './stats.js';

const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const RESOLVED: Promise<void> = Promise.resolve();

/** Node-wide record of one peer: the connection sends go on, and every live connection with it. */
interface Peer {
  sendChannel: Channel | undefined;
  readonly channels: Set<Channel>;
  /** The newest incarnation a HELLO of the peer has announced (undefined: none heard yet). */
  incarnation: number | undefined;
}

export class MessengerRoot implements MessengerRootContract, ChannelHost {
  readonly networkId: number;
  /** This node's restarts so far: its HELLO tells peers so they drop its previous life's connections. */
  readonly incarnation: number;
  /** Settles (on `listenCore`) once the listener is bound; rejects if it could not be. */
  readonly listening: Promise<void>;
  private resolveListening!: () => void;
  private rejectListening!: (error: unknown) => void;
  private listener: TcpListener | undefined;
  private started = false;
  private stopped = false;
  private readonly reps: (MessengerRep | undefined)[];
  private readonly perCore: CoreStats[];
  private readonly directory = new PeerDirectory();
  private readonly peers = new Map<number, Peer>();
  private readonly dispatcher: Dispatcher;
  private readonly incoming = new Set<Channel>();

  constructor(
    readonly node: NodeContext,
    readonly id: EbbId,
    readonly options: MessengerOptions,
    private readonly logLine: (line: string) => void = () => {},
  ) {
    this.networkId = options.networkId ?? node.id;
    this.incarnation = options.incarnation;
    this.reps = new Array<MessengerRep | undefined>(node.numCores).fill(undefined);
    this.perCore = Array.from({ length: node.numCores }, () => new CoreStats());
    this.dispatcher = new Dispatcher(node, this.networkId, () => this.coreStats(), (line) => this.log(line));
    if (!Number.isInteger(options.listenCore) || options.listenCore < 0 || options.listenCore >= node.numCores) {
      throw new RangeError(`messenger: listenCore ${options.listenCore} is not a core of node ${node.id} (it has ${node.numCores})`);
    }
    this.directory.load(options.peers);
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
    this.directory.set(networkId, address, port);
  }

  peerAddress(networkId: number): PeerAddress | undefined {
    return this.directory.get(networkId);
  }

  /**
   * Forgets a node that is gone (freed or dead): drops its address and closes its connections, so
   * it is no longer among {@link peerIds} and later sends reject at once naming it.
   */
  forgetPeer(networkId: number): void {
    if (!this.directory.forget(networkId)) return;
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
    return this.directory.idsExcept(this.networkId);
  }

  // ------------------------------------------------------------ handlers

  register(ebbId: EbbId, handler: MessageHandler): void {
    this.dispatcher.register(ebbId, handler);
  }

  unregister(ebbId: EbbId): void {
    this.dispatcher.unregister(ebbId);
  }

  registerType(typeCode: number, fault: MessageTypeFaultHandler): void {
    this.dispatcher.registerType(typeCode, fault);
  }

  /** Delivers a message on the current core. Owns `payload` until a handler takes it. */
  deliver(from: number, ebbId: EbbId, typeCode: number, payload: IOBuf): void {
    this.dispatcher.deliver(from, ebbId, typeCode, payload);
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
      if (this.directory.isGone(networkId)) return new NodeUnavailableError(networkId, 'the node is gone (freed or dead)');
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
    conn.sendQueued(encodeHello(this.networkId, HELLO_MAGIC, PROTOCOL_VERSION, this.incarnation));
    return channel;
  }

  private peer(networkId: number): Peer {
    let p = this.peers.get(networkId);
    if (p === undefined) {
      p = { sendChannel: undefined, channels: new Set(), incarnation: undefined };
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

  /**
   * A channel's HELLO named its peer's incarnation. A higher one than this node knew means the
   * peer crashed and restarted: every other greeted connection with it is with its dead previous
   * life (the peer's fresh stack would only reset them, after sends on them were lost), so they
   * are aborted, their waiting sends rejecting with an error naming the node, and sends go on
   * this connection from now on. A lower one is a connection from a life already replaced:
   * refused. Connections still waiting for their HELLO are judged when it comes.
   */
  greeted(channel: Channel): string | undefined {
    const id = channel.peer!;
    const incarnation = channel.peerIncarnation ?? 0;
    const peer = this.peer(id);
    if (peer.incarnation === undefined || incarnation === peer.incarnation) {
      peer.incarnation = incarnation;
      return undefined;
    }
    if (incarnation < peer.incarnation) {
      return `node ${id} restarted (incarnation ${peer.incarnation} now); this connection is from its incarnation ${incarnation}`;
    }
    const previous = peer.incarnation;
    peer.incarnation = incarnation;
    this.log(`node ${id} restarted (incarnation ${previous} -> ${incarnation}): replacing its stale connections`);
    const reason = new NodeUnavailableError(id, `it restarted (incarnation ${incarnation}): the connection to its previous life is stale`);
    for (const c of [...peer.channels]) {
      if (c === channel || c.peerIncarnation === undefined || c.peerIncarnation >= incarnation) continue;
      peer.channels.delete(c);
      if (peer.sendChannel === c) peer.sendChannel = undefined;
      this.coreStats().peer(id).staleConnections++;
      this.onCore(c.core, () => {
        if (c.state === 'dead') return;
        // Said once per connection, naming the node: its waiting sends reject with `reason`.
        this.log(`dropping the connection to ${c.label}: ${reason.message}`);
        c.conn.abort();
        c.die(reason, true);
      });
    }
    if (channel.state === 'open') peer.sendChannel = channel;
    return undefined;
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

  // ------------------------------------------------------------ misc

  stats(): MessengerStats {
    return sumStats(this.perCore);
  }

  /** Traffic per peer, for a tool's snapshot (summed on demand like {@link stats}). */
  traffic(): MessengerTraffic {
    return trafficOf(this.stats());
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
