// TCP (RFC 9293) with lwIP's architecture: protocol control blocks (TcpPcb) demultiplexed by a
// Map on the 4-tuple, listeners by port, segments (tcp_seg) kept as IOBuf views of the caller's
// buffers until acked, out-of-order segments kept as views of the driver's RX buffers.
// Retransmission timeout per RFC 6298, congestion control per RFC 5681 + NewReno (RFC 6582),
// window scaling and MSS options (RFC 7323, RFC 9293 3.7.1), zero-window probes, TIME_WAIT.
//
// Cores: a pcb is bound to a core (`core`): the caller of tcpConnect, or for accepted
// connections the core whose RX queue took the SYN (RSS over the 4-tuple). Segments are
// processed on the core that received them (RSS keeps a flow on one core); handler callbacks
// run on the pcb's core: directly when that is the current core, else posted to it through the
// Event Manager (FIFO per core, so callback order is kept). Timers are per-pcb deadlines checked
// by one Timer Ebb timer per pcb, started on the core that armed it. One JS thread: no locks.

import { cpu } from '@ebbrt/core-translation';
import { IOBuf, UsageError, type TcpConnection, type TcpHandler, type TcpListener, type TimerHandle } from '@ebbrt/interfaces';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { IpProtocol } from '../wire/ipv4.js';
import { ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { writeU16, writeU32 } from '../wire/result.js';
import { TCP_MIN_HEADER_LEN, TcpFlags, TcpSegment } from '../wire/tcp.js';
import { emitTcpOptions, emptyTcpOptions, TCP_MAX_WINDOW_SCALE, tcpOptionsLength, type TcpOptions } from '../wire/tcp-options.js';
import { ReassemblyQueue } from './reassembly.js';
import { RtoEstimator, type RtoConfig } from './rto.js';
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from './seq.js';
import type { PhaseTrace } from '../phase-trace.js';

export const TcpState = {
  Closed: 'CLOSED',
  SynSent: 'SYN_SENT',
  SynRcvd: 'SYN_RCVD',
  Established: 'ESTABLISHED',
  FinWait1: 'FIN_WAIT_1',
  FinWait2: 'FIN_WAIT_2',
  CloseWait: 'CLOSE_WAIT',
  Closing: 'CLOSING',
  LastAck: 'LAST_ACK',
  TimeWait: 'TIME_WAIT',
} as const;
export type TcpStateName = (typeof TcpState)[keyof typeof TcpState];

export interface TcpConfig {
  /** Largest payload we accept per segment (mtu - 40). */
  mss: number;
  /** Receive window we advertise, bytes (scaled with the window-scale option). */
  receiveWindow: number;
  /** Send buffer limit: bytes queued (unacked + unsent) per connection. */
  sendBuffer: number;
  rto: RtoConfig;
  /** Retransmissions of one segment before the connection is aborted ('timeout'). */
  maxRetries: number;
  /** SYN retransmissions before tcpConnect fails ('connection timed out'). */
  maxSynRetries: number;
  /** Maximum segment lifetime; TIME_WAIT lasts 2 × MSL. */
  mslNs: number;
  /** Half-open (SYN_RCVD) connections per listener. */
  synBacklog: number;
}

export interface TcpStats {
  segmentsIn: number;
  segmentsOut: number;
  badChecksum: number;
  malformed: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  rstSent: number;
  rstReceived: number;
  outOfOrder: number;
  duplicateSegments: number;
  backlogDrops: number;
  zeroWindowProbes: number;
  handlerErrors: number;
  pcbsCreated: number;
  pcbsFreed: number;
}

/** What the stack needs from the interface layer and the node. */
export interface TcpEnv {
  localAddress(): Ipv4Address;
  nowNs(): number;
  /** Header buffer for a segment: `size` bytes from the virtio header on (null: no memory). */
  allocFrame(size: number): IOBuf | null;
  /** Offset of the L4 header inside a frame from allocFrame. */
  readonly l4Offset: number;
  /** Routes a finished frame (IPv4 header still to be written) to `dst`. Takes ownership. */
  ipOutput(chain: IOBuf, dst: Ipv4Address, payloadLength: number): void;
  /** Adds an IOBuf chain's bytes to a running checksum sum. */
  chainChecksumAdd(sum: number, chain: IOBuf): number;
  startTimer(fn: () => void, delayUs: number): TimerHandle;
  /** Runs `fn` on `core` (the Event Manager's post). */
  post(core: number, fn: () => void): void;
  numCores: number;
  /**
   * Runs `fn` once the current batch of input is handled (before the core runs anything else).
   * With it, in-order data is acknowledged at the end of the batch unless a reply carried the
   * ACK, and at least every second segment (RFC 5681 4.2); without it, every segment is ACKed.
   */
  defer?(fn: () => void): void;
  /**
   * The core whose queue the NIC steers a flow's incoming segments to. With it, an active open
   * picks an ephemeral port whose replies land on the calling core, so the connection's input is
   * handled where it lives (no hop, and an ACK can ride on the next request).
   */
  rxCoreOf?(remote: Ipv4Address, remotePort: number, localPort: number): number;
}

function currentCore(): number {
  return cpu.current?.index ?? 0;
}

/** One segment on the send side (lwIP's tcp_seg): views of the caller's buffers. */
interface SendSeg {
  seq: number;
  /** Payload bytes. */
  len: number;
  /** Payload chain (views); undefined for SYN/FIN-only segments. */
  data: IOBuf | undefined;
  syn: boolean;
  fin: boolean;
  /** Times this segment was sent. */
  sends: number;
}

export class TcpListenerImpl implements TcpListener {
  readonly listening: Promise<void> = Promise.resolve();
  closed = false;
  /** Half-open connections. */
  halfOpen = 0;
  constructor(
    private readonly stack: TcpStack,
    readonly port: number,
    readonly accept: (connection: TcpConnection) => TcpHandler,
    readonly core: number,
  ) {}
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stack.unlisten(this);
  }
}

/** Thrown by send() beyond sendWindowRemaining(), like the hosted stack's SendWindowError. */
export class SendWindowError extends UsageError {
  constructor(
    readonly length: number,
    readonly window: number,
  ) {
    super(`send of ${length} bytes exceeds the send window (${window} bytes left); use sendQueued`);
  }
}

export class TcpPcb implements TcpConnection {
  state: TcpStateName = TcpState.Closed;
  handler: TcpHandler | undefined;
  /** No more callbacks (close/abort called or aborted delivered). */
  silenced = false;
  /** close() or shutdown() called: no more sends. */
  sendClosed = false;
  coreIndex: number;
  readonly key: string;
  listener: TcpListenerImpl | undefined;
  active: boolean;

  // send sequence space
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  sndScale = 0;
  mss: number;
  /** Sent, not yet acked (in order). */
  unacked: SendSeg[] = [];
  /** Queued, not yet sent. */
  unsent: SendSeg[] = [];
  /** Payload bytes in unacked + unsent. */
  buffered = 0;
  /** Application data waiting for sendWindowRemaining (sendQueued). */
  appQueue: IOBuf[] = [];
  appQueued = 0;
  wantWindow = false;
  finQueued = false;

  // congestion control
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;

  // RTT / RTO
  readonly rto: RtoEstimator;
  rttSeq = 0;
  rttStartNs = -1;
  retries = 0;
  rtoDeadline = -1;
  persistDeadline = -1;
  timeWaitDeadline = -1;
  timer: TimerHandle | undefined;
  timerAt = -1;

  // receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** RCV.NXT as carried by the last segment we sent (so a reply that piggybacked it needs no pure ACK). */
  ackSent = -1;
  /** In-order segments received since we last acknowledged. */
  segsUnacked = 0;
  /** Waiting in the stack's end-of-batch ACK list. */
  ackPending = false;
  rcvScale = 0;
  /** Receive window we offer (what the advertised field can express). */
  rcvWnd = 0xffff;
  readonly ooo = new ReassemblyQueue();
  finReceived = false;

  constructor(
    private readonly stack: TcpStack,
    readonly localPort: number,
    readonly remoteIp: Ipv4Address,
    readonly remotePort: number,
    core: number,
    active: boolean,
  ) {
    this.key = pcbKey(remoteIp, remotePort, localPort);
    this.coreIndex = core;
    this.active = active;
    this.mss = stack.config.mss;
    this.rto = new RtoEstimator(stack.config.rto);
  }

  get remoteAddress(): string {
    return ipv4ToString(this.remoteIp);
  }
  get core(): number {
    return this.coreIndex;
  }

  bindCore(core: number): void {
    if (!Number.isInteger(core) || core < 0 || core >= this.stack.env.numCores) {
      throw new RangeError(`bindCore: this node has no core ${core} (it has ${this.stack.env.numCores})`);
    }
    this.coreIndex = core;
  }

  sendWindowRemaining(): number {
    if (this.sendClosed || this.state === TcpState.Closed || this.appQueue.length > 0) return 0;
    if (!isSynchronized(this.state)) return 0;
    return Math.max(0, Math.min(this.sndWnd, this.stack.config.sendBuffer) - this.buffered);
  }

  private checkSendable(op: string): void {
    if (this.sendClosed || this.state === TcpState.Closed || !(isSynchronized(this.state) || this.state === TcpState.SynSent || this.state === TcpState.SynRcvd)) {
      throw new UsageError(`${op} on a TCP connection that is ${this.sendClosed ? 'closed' : this.state}`);
    }
  }

  send(data: IOBuf): void {
    const phases = this.stack.phases;
    if (phases !== undefined) {
      const t0 = phases.now();
      try {
        this.sendNow(data);
      } finally {
        phases.end('stack', currentCore(), t0);
      }
      return;
    }
    this.sendNow(data);
  }

  private sendNow(data: IOBuf): void {
    this.checkSendable('send');
    const length = data.computeChainDataLength();
    const room = this.sendWindowRemaining();
    if (length > room) {
      this.wantWindow = true;
      throw new SendWindowError(length, room);
    }
    this.enqueue(data, length);
    if (this.sendWindowRemaining() <= 0) this.wantWindow = true;
    this.stack.output(this);
  }

  sendQueued(data: IOBuf): void {
    const phases = this.stack.phases;
    if (phases !== undefined) {
      const t0 = phases.now();
      try {
        this.sendQueuedNow(data);
      } finally {
        phases.end('stack', currentCore(), t0);
      }
      return;
    }
    this.sendQueuedNow(data);
  }

  private sendQueuedNow(data: IOBuf): void {
    this.checkSendable('sendQueued');
    const length = data.computeChainDataLength();
    if (this.appQueue.length === 0 && length <= this.sendWindowRemaining()) {
      this.enqueue(data, length);
      // Filling the window exactly is back-pressure too: the caller hears when it opens again.
      if (this.sendWindowRemaining() <= 0) this.wantWindow = true;
      this.stack.output(this);
      return;
    }
    this.wantWindow = true;
    this.appQueue.push(data);
    this.appQueued += length;
    this.flushAppQueue();
    this.stack.output(this);
  }

  /** Moves queued application data into segments while the window has room. */
  flushAppQueue(ignoreWindow = false): void {
    while (this.appQueue.length > 0) {
      const head = this.appQueue[0]!;
      const len = head.computeChainDataLength();
      // Queued data becomes segments up to the send buffer, regardless of the peer's window:
      // output() then respects the window (and probes a zero window).
      const room = ignoreWindow ? Infinity : Math.max(0, this.stack.config.sendBuffer - this.buffered);
      if (!isSynchronized(this.state) && !ignoreWindow) return;
      if (len <= room) {
        this.appQueue.shift();
        this.appQueued -= len;
        this.enqueue(head, len);
        continue;
      }
      if (room <= 0) return;
      // Split: enqueue views of the first `room` bytes, keep the rest.
      const part = sliceChain(head, 0, room);
      this.enqueue(part, room);
      dropFront(head, room);
      this.appQueued -= room;
      return;
    }
  }

  /** Segments `data` (ownership taken) into MSS-sized views appended to `unsent`. */
  enqueue(data: IOBuf, length: number): void {
    if (length === 0) {
      data.releaseChain();
      return;
    }
    let seq = this.unsent.length > 0 ? segEnd(this.unsent[this.unsent.length - 1]!) : this.unacked.length > 0 ? segEnd(this.unacked[this.unacked.length - 1]!) : this.sndNxt;
    // A partially filled last unsent segment could be topped up (Nagle-like coalescing); we
    // keep it simple: new segments start at the new data.
    let off = 0;
    while (off < length) {
      const n = Math.min(this.mss, length - off);
      this.unsent.push({ seq, len: n, data: sliceChain(data, off, n), syn: false, fin: false, sends: 0 });
      seq = seqAdd(seq, n);
      off += n;
    }
    this.buffered += length;
    data.releaseChain();
  }

  shutdown(): void {
    if (this.sendClosed || this.state === TcpState.Closed) return;
    this.sendClosed = true;
    this.flushAppQueue(true);
    this.stack.queueFin(this);
  }

  close(): void {
    if (this.state === TcpState.Closed) {
      this.silenced = true;
      return;
    }
    this.silenced = true;
    if (this.state === TcpState.SynSent) {
      this.stack.free(this);
      return;
    }
    if (!this.sendClosed) {
      this.sendClosed = true;
      this.flushAppQueue(true);
      this.stack.queueFin(this);
    }
  }

  abort(): void {
    this.silenced = true;
    if (this.state === TcpState.Closed) return;
    if (this.state !== TcpState.SynSent && this.state !== TcpState.TimeWait) this.stack.sendRstFor(this);
    this.stack.free(this);
  }

  /** Runs a handler callback on the pcb's core. */
  callback(fn: (h: TcpHandler) => void, dropped?: () => void): void {
    const h = this.handler;
    if (h === undefined || this.silenced) {
      dropped?.();
      return;
    }
    if (currentCore() === this.coreIndex) this.runCallback(h, fn, dropped);
    else this.stack.env.post(this.coreIndex, () => this.runCallback(h, fn, dropped));
  }

  private runCallback(h: TcpHandler, fn: (h: TcpHandler) => void, dropped: (() => void) | undefined): void {
    if (this.silenced) {
      dropped?.();
      return;
    }
    const phases = this.stack.phases;
    const t0 = phases === undefined ? 0 : phases.now();
    try {
      fn(h);
    } catch {
      this.stack.stats.handlerErrors++;
    }
    if (phases !== undefined) phases.end('app', this.coreIndex, t0);
  }

  /**
   * `callback(h => h.receive(this, data), () => data.release())` without its three closures
   * per delivered segment when already on the pcb's core (the per-request path).
   */
  receiveCallback(data: IOBuf): void {
    const h = this.handler;
    if (h === undefined || this.silenced) {
      data.release();
      return;
    }
    if (currentCore() !== this.coreIndex) {
      this.stack.env.post(this.coreIndex, () => this.runCallback(h, (x) => x.receive(this, data), () => data.release()));
      return;
    }
    const phases = this.stack.phases;
    const t0 = phases === undefined ? 0 : phases.now();
    try {
      h.receive(this, data);
    } catch {
      this.stack.stats.handlerErrors++;
    }
    if (phases !== undefined) phases.end('app', this.coreIndex, t0);
  }
}

function isSynchronized(s: TcpStateName): boolean {
  return s !== TcpState.Closed && s !== TcpState.SynSent && s !== TcpState.SynRcvd;
}

function segEnd(s: SendSeg): number {
  return seqAdd(s.seq, s.len + (s.syn ? 1 : 0) + (s.fin ? 1 : 0));
}

export function pcbKey(remoteIp: Ipv4Address, remotePort: number, localPort: number): string {
  return `${remoteIp}:${remotePort}:${localPort}`;
}

/** Views (clones, no copy) of bytes [off, off+n) of a chain. */
export function sliceChain(chain: IOBuf, off: number, n: number): IOBuf {
  let head: IOBuf | undefined;
  let e: IOBuf = chain;
  do {
    const len = e.length;
    if (n > 0 && off < len) {
      const take = Math.min(len - off, n);
      const v = e.clone();
      v.advance(off);
      v.trimEnd(v.length - take);
      if (head === undefined) head = v;
      else head.appendChain(v);
      n -= take;
      off = 0;
    } else if (off >= len) {
      off -= len;
    }
    e = e.next;
  } while (e !== chain && n > 0);
  return head ?? IOBuf.wrap(new Uint8Array(0));
}

/** Drops the first n bytes of a chain in place (the head element stays the head). */
function dropFront(chain: IOBuf, n: number): void {
  let e: IOBuf = chain;
  while (n > 0) {
    const take = Math.min(e.length, n);
    e.advance(take);
    n -= take;
    e = e.next;
    if (e === chain) break;
  }
}

const EMPTY_OPTIONS = Object.freeze(emptyTcpOptions()) as TcpOptions;

export class TcpStack {
  readonly pcbs = new Map<string, TcpPcb>();
  /**
   * Secondary index of `pcbs` for the per-segment lookup: remoteIp * 65536 + remotePort → the
   * pcbs with that peer (usually one). Building the string key per incoming segment (three
   * number-to-string conversions, a concatenation and a string hash) was a visible part of the
   * TCP input path; this one needs no allocation. Kept in step by newPcb and free.
   */
  private readonly byPeer = new Map<number, TcpPcb[]>();
  readonly listeners = new Map<number, TcpListenerImpl>();
  /** Accepts SYNs to any port no listener has (a gateway relaying every port); port 0. */
  private anyPortListener: TcpListenerImpl | undefined;
  readonly stats: TcpStats = {
    segmentsIn: 0,
    segmentsOut: 0,
    badChecksum: 0,
    malformed: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    rstSent: 0,
    rstReceived: 0,
    outOfOrder: 0,
    duplicateSegments: 0,
    backlogDrops: 0,
    zeroWindowProbes: 0,
    handlerErrors: 0,
    pcbsCreated: 0,
    pcbsFreed: 0,
  };
  private readonly seg = new TcpSegment(new Uint8Array(0), 0, 0);
  private readonly opts: TcpOptions = emptyTcpOptions();
  private readonly synOpts: TcpOptions = emptyTcpOptions();
  private nextEphemeral = 49152;
  private issCounter = 0x1234567;
  readonly ourScale: number;
  /** Driver/stack/app spans for a latency breakdown; set only when the simulation traces. */
  phases: PhaseTrace | undefined = undefined;

  constructor(
    readonly config: TcpConfig,
    readonly env: TcpEnv,
  ) {
    let s = 0;
    while (s < TCP_MAX_WINDOW_SCALE && config.receiveWindow >> s > 0xffff) s++;
    this.ourScale = s;
  }

  // ================================================================ API

  listen(port: number, accept: (c: TcpConnection) => TcpHandler, core: number): TcpListenerImpl {
    if (typeof accept !== 'function') throw new UsageError('tcpListen: accept must be a function');
    if (port === 0) port = this.ephemeralPort();
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`tcpListen: port must be an integer in 0..65535, got ${port}`);
    if (this.listeners.has(port)) throw new UsageError(`tcpListen: TCP port ${port} is already in use (EADDRINUSE)`);
    const l = new TcpListenerImpl(this, port, accept, core);
    this.listeners.set(port, l);
    return l;
  }

  /**
   * Accepts connections to every port that has no listener of its own, as a user-mode network
   * gateway does (QEMU's slirp): the accepted connection's `localPort` is the port asked for.
   */
  listenAnyPort(accept: (c: TcpConnection) => TcpHandler, core: number): TcpListenerImpl {
    if (typeof accept !== 'function') throw new UsageError('listenAnyPort: accept must be a function');
    if (this.anyPortListener !== undefined) throw new UsageError('listenAnyPort: there is already an any-port listener');
    this.anyPortListener = new TcpListenerImpl(this, 0, accept, core);
    return this.anyPortListener;
  }

  unlisten(l: TcpListenerImpl): void {
    if (this.anyPortListener === l) this.anyPortListener = undefined;
    else if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  /** Active open. `localPort` (tests, simultaneous open) defaults to an ephemeral port. */
  connect(dst: Ipv4Address, port: number, handler: TcpHandler, core: number, localPort = 0): TcpPcb {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`tcpConnect: port must be an integer in 1..65535, got ${port}`);
    if (handler === null || typeof handler !== 'object' || typeof handler.receive !== 'function') {
      throw new UsageError('tcpConnect: handler must have a receive function');
    }
    let local = localPort;
    if (local !== 0 && this.pcbs.has(pcbKey(dst, port, local))) throw new UsageError(`tcpConnect: port ${local} is already connected to that peer`);
    const steer = this.env.rxCoreOf;
    let fallback = 0;
    for (let i = 0; i < 16384 && local === 0; i++) {
      const p = this.ephemeralPort();
      if (this.pcbs.has(pcbKey(dst, port, p))) continue;
      // A port whose replies the NIC steers to this core, among the next few free ones.
      if (steer === undefined || steer(dst, port, p) === core) local = p;
      else if (fallback === 0) fallback = p;
      if (local === 0 && fallback !== 0 && i >= 4 * this.env.numCores) local = fallback;
    }
    if (local === 0) throw new UsageError('tcpConnect: no free ephemeral TCP port');
    const pcb = this.newPcb(local, dst, port, core, true);
    pcb.handler = handler;
    pcb.state = TcpState.SynSent;
    this.initSend(pcb);
    pcb.unsent.push({ seq: pcb.iss, len: 0, data: undefined, syn: true, fin: false, sends: 0 });
    pcb.cwnd = pcb.mss; // the SYN
    this.output(pcb);
    return pcb;
  }

  private ephemeralPort(): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === 65535 ? 49152 : p + 1;
      if (!this.listeners.has(p)) return p;
    }
    throw new UsageError('no free ephemeral TCP port');
  }

  private newPcb(localPort: number, ip: Ipv4Address, port: number, core: number, active: boolean): TcpPcb {
    const pcb = new TcpPcb(this, localPort, ip, port, core, active);
    const replaced = this.pcbs.get(pcb.key);
    if (replaced !== undefined) this.unindex(replaced);
    this.pcbs.set(pcb.key, pcb);
    const k = ip * 65536 + port;
    const peers = this.byPeer.get(k);
    if (peers === undefined) this.byPeer.set(k, [pcb]);
    else peers.push(pcb);
    this.stats.pcbsCreated++;
    return pcb;
  }

  private initSend(pcb: TcpPcb): void {
    // Deterministic ISS (virtual time + counter); a real deployment wants RFC 6528.
    this.issCounter = (Math.imul(this.issCounter ^ (this.env.nowNs() / 1000) ^ (pcb.localPort << 16) ^ pcb.remotePort, 2654435761) + 12345) >>> 0;
    pcb.iss = this.issCounter;
    pcb.sndUna = pcb.iss;
    pcb.sndNxt = pcb.iss;
    pcb.sndMax = pcb.iss;
    pcb.recover = pcb.iss;
  }

  /** Frees a pcb: releases every buffer, stops its timer, removes it from the table. */
  free(pcb: TcpPcb): void {
    if (pcb.state === TcpState.SynRcvd && pcb.listener !== undefined) pcb.listener.halfOpen--;
    pcb.state = TcpState.Closed;
    for (const s of pcb.unacked) s.data?.releaseChain();
    for (const s of pcb.unsent) s.data?.releaseChain();
    for (const d of pcb.appQueue) d.releaseChain();
    pcb.unacked = [];
    pcb.unsent = [];
    pcb.appQueue = [];
    pcb.buffered = 0;
    pcb.ooo.clear();
    pcb.timer?.stop();
    pcb.timer = undefined;
    if (this.pcbs.get(pcb.key) === pcb) {
      this.pcbs.delete(pcb.key);
      this.unindex(pcb);
      this.stats.pcbsFreed++;
    }
  }

  private unindex(pcb: TcpPcb): void {
    const k = pcb.remoteIp * 65536 + pcb.remotePort;
    const peers = this.byPeer.get(k);
    if (peers === undefined) return;
    const i = peers.indexOf(pcb);
    if (i < 0) return;
    peers.splice(i, 1);
    if (peers.length === 0) this.byPeer.delete(k);
  }

  /** The pcb of (remote address, remote port, local port), as `pcbs.get(pcbKey(...))`. */
  private lookup(remoteIp: Ipv4Address, remotePort: number, localPort: number): TcpPcb | undefined {
    const peers = this.byPeer.get(remoteIp * 65536 + remotePort);
    if (peers === undefined) return undefined;
    for (let i = 0; i < peers.length; i++) if (peers[i]!.localPort === localPort) return peers[i];
    return undefined;
  }

  private abortWith(pcb: TcpPcb, reason: Error): void {
    // The last callback: earlier (posted) callbacks still run before it; nothing follows it.
    pcb.callback((h) => {
      pcb.silenced = true;
      h.aborted?.(pcb, reason);
    });
    this.free(pcb);
  }

  queueFin(pcb: TcpPcb): void {
    if (pcb.finQueued) return;
    pcb.finQueued = true;
    const last = pcb.unsent.length > 0 ? pcb.unsent[pcb.unsent.length - 1]! : undefined;
    if (last !== undefined && !last.syn) last.fin = true;
    else {
      const seq = last !== undefined ? segEnd(last) : pcb.unacked.length > 0 ? segEnd(pcb.unacked[pcb.unacked.length - 1]!) : pcb.sndNxt;
      pcb.unsent.push({ seq, len: 0, data: undefined, syn: false, fin: true, sends: 0 });
    }
    if (pcb.state === TcpState.Established || pcb.state === TcpState.SynRcvd) pcb.state = TcpState.FinWait1;
    else if (pcb.state === TcpState.CloseWait) pcb.state = TcpState.LastAck;
    this.output(pcb);
  }

  // ================================================================ output

  /** Sends what the windows allow from `unsent`. */
  output(pcb: TcpPcb): void {
    if (pcb.state === TcpState.Closed) return;
    if (pcb.state === TcpState.SynRcvd && !pcb.active && pcb.unacked.length > 0) return;
    const now = this.env.nowNs();
    while (pcb.unsent.length > 0) {
      const s = pcb.unsent[0]!;
      if (pcb.state === TcpState.SynSent && !s.syn) break;
      const wnd = Math.min(pcb.cwnd, pcb.sndWnd);
      const end = seqDiff(seqAdd(s.seq, s.len), pcb.sndUna);
      if (!s.syn && s.len > 0 && end > wnd) {
        // Zero window with nothing in flight: probe later.
        if (pcb.sndWnd === 0 && pcb.unacked.length === 0 && pcb.persistDeadline < 0) {
          pcb.persistDeadline = now + pcb.rto.rto;
          this.armTimer(pcb);
        }
        break;
      }
      pcb.unsent.shift();
      pcb.unacked.push(s);
      this.transmitSeg(pcb, s, now);
      const e = segEnd(s);
      if (seqGt(e, pcb.sndNxt)) pcb.sndNxt = e;
      if (seqGt(e, pcb.sndMax)) pcb.sndMax = e;
    }
  }

  private transmitSeg(pcb: TcpPcb, s: SendSeg, now: number): void {
    if (s.sends > 0) {
      this.stats.retransmits++;
      if (pcb.rttStartNs >= 0 && seqLeq(s.seq, pcb.rttSeq)) pcb.rttStartNs = -1; // Karn
    } else if (pcb.rttStartNs < 0) {
      pcb.rttStartNs = now;
      pcb.rttSeq = s.seq;
    }
    s.sends++;
    let flags: number = TcpFlags.ACK;
    if (s.syn) flags = pcb.state === TcpState.SynSent ? TcpFlags.SYN : TcpFlags.SYN | TcpFlags.ACK;
    if (s.fin) flags |= TcpFlags.FIN;
    if (s.len > 0) flags |= TcpFlags.PSH;
    const sent = this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, s.seq, pcb.rcvNxt, flags, this.advertisedWindow(pcb, s.syn), s.syn ? this.synOptions() : EMPTY_OPTIONS, s.data, s.len);
    if (sent && (flags & TcpFlags.ACK) !== 0) this.acked(pcb);
    if (pcb.rtoDeadline < 0) {
      pcb.rtoDeadline = now + pcb.rto.rto;
      this.armTimer(pcb);
    }
  }

  private synOptions(): TcpOptions {
    const o = this.synOpts;
    o.mss = this.config.mss;
    o.windowScale = this.ourScale;
    return o;
  }

  private advertisedWindow(pcb: TcpPcb, syn: boolean): number {
    const w = this.config.receiveWindow;
    if (syn) return Math.min(w, 0xffff); // never scaled in a SYN (RFC 7323 2.2)
    return Math.min(0xffff, Math.floor(Math.min(w, pcb.rcvWnd) / 2 ** pcb.rcvScale));
  }

  sendAck(pcb: TcpPcb): void {
    // SEQ = SND.MAX, not SND.NXT: after a go-back-N rewind, an ACK carrying an old sequence
    // number would be unacceptable to the peer (RFC 9293 3.10.7.4) and its ACK field ignored.
    if (this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, pcb.sndMax, pcb.rcvNxt, TcpFlags.ACK, this.advertisedWindow(pcb, false), EMPTY_OPTIONS, undefined, 0)) {
      this.acked(pcb);
    }
  }

  /** A segment carrying ACK = RCV.NXT went out. */
  private acked(pcb: TcpPcb): void {
    pcb.ackSent = pcb.rcvNxt;
    pcb.segsUnacked = 0;
  }

  /** In-order data arrived: acknowledge now, or at the end of this batch of input (env.defer). */
  private ackData(pcb: TcpPcb): void {
    const defer = this.env.defer;
    if (defer === undefined || ++pcb.segsUnacked >= 2) {
      this.sendAck(pcb);
      return;
    }
    if (pcb.ackPending) return;
    pcb.ackPending = true;
    this.pendingAcks.push(pcb);
    if (!this.ackFlushScheduled) {
      this.ackFlushScheduled = true;
      defer(this.flushAcks);
    }
  }

  private readonly pendingAcks: TcpPcb[] = [];
  private ackFlushScheduled = false;
  private readonly flushAcks = (): void => {
    this.ackFlushScheduled = false;
    const list = this.pendingAcks;
    for (let i = 0; i < list.length; i++) {
      const pcb = list[i]!;
      pcb.ackPending = false;
      // A reply sent while handling the data already carried this ACK.
      if (pcb.state !== TcpState.Closed && pcb.ackSent !== pcb.rcvNxt) this.sendAck(pcb);
    }
    list.length = 0;
  };

  sendRstFor(pcb: TcpPcb): void {
    this.stats.rstSent++;
    this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, pcb.sndMax, pcb.rcvNxt, TcpFlags.RST | TcpFlags.ACK, 0, EMPTY_OPTIONS, undefined, 0);
  }

  /** Builds and sends one segment: a header buffer with the payload views chained behind it. */
  private emit(
    srcPort: number,
    dst: Ipv4Address,
    dstPort: number,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    options: TcpOptions,
    payload: IOBuf | undefined,
    payloadLen: number,
  ): boolean {
    const env = this.env;
    const optLen = options === EMPTY_OPTIONS ? 0 : tcpOptionsLength(options);
    const hl = TCP_MIN_HEADER_LEN + optLen;
    const head = env.allocFrame(env.l4Offset + hl);
    if (head === null) return false; // counted as noMemory; retransmission recovers
    const b = head.bytes;
    const o = head.offset + env.l4Offset;
    if (optLen > 0) emitTcpOptions(options, b, o + TCP_MIN_HEADER_LEN);
    writeU16(b, o, srcPort);
    writeU16(b, o + 2, dstPort);
    writeU32(b, o + 4, seq >>> 0);
    writeU32(b, o + 8, (flags & TcpFlags.ACK) !== 0 ? ack >>> 0 : 0);
    b[o + 12] = (hl / 4) << 4;
    b[o + 13] = flags;
    writeU16(b, o + 14, window);
    writeU16(b, o + 16, 0);
    writeU16(b, o + 18, 0);
    const len = hl + payloadLen;
    let sum = pseudoHeaderSum(env.localAddress(), dst, IpProtocol.Tcp, len);
    sum = checksumAdd(sum, b, o, hl);
    if (payload !== undefined && payloadLen > 0) {
      const views = payload.cloneChain(); // the driver releases what it sends
      sum = env.chainChecksumAdd(sum, views);
      head.appendChain(views);
    }
    writeU16(b, o + 16, checksumFinish(sum));
    this.stats.segmentsOut++;
    env.ipOutput(head, dst, len);
    return true;
  }

  // ================================================================ timers

  /** Makes sure the pcb's timer fires by its earliest deadline. */
  armTimer(pcb: TcpPcb): void {
    // No array per call: this runs after every ACK.
    let at = Infinity;
    const r = pcb.rtoDeadline;
    const p = pcb.persistDeadline;
    const w = pcb.timeWaitDeadline;
    if (r >= 0 && r < at) at = r;
    if (p >= 0 && p < at) at = p;
    if (w >= 0 && w < at) at = w;
    if (at === Infinity) return;
    if (pcb.timer !== undefined && pcb.timer.active && pcb.timerAt <= at) return;
    pcb.timer?.stop();
    const now = this.env.nowNs();
    pcb.timerAt = at;
    pcb.timer = this.env.startTimer(() => this.onTimer(pcb), Math.max(1, Math.ceil((at - now) / 1000)));
  }

  private onTimer(pcb: TcpPcb): void {
    pcb.timer = undefined;
    pcb.timerAt = -1;
    if (pcb.state === TcpState.Closed) return;
    const now = this.env.nowNs();
    if (pcb.timeWaitDeadline >= 0 && now >= pcb.timeWaitDeadline) {
      this.free(pcb);
      return;
    }
    if (pcb.rtoDeadline >= 0 && now >= pcb.rtoDeadline) {
      pcb.rtoDeadline = -1;
      if (pcb.unacked.length > 0) this.onRto(pcb, now);
      if (isClosed(pcb)) return;
    }
    if (pcb.persistDeadline >= 0 && now >= pcb.persistDeadline) {
      pcb.persistDeadline = -1;
      this.probe(pcb, now);
    }
    this.armTimer(pcb);
  }

  private onRto(pcb: TcpPcb, now: number): void {
    const cfg = this.config;
    pcb.retries++;
    const syn = pcb.state === TcpState.SynSent || pcb.state === TcpState.SynRcvd;
    if (pcb.retries > (syn ? cfg.maxSynRetries : cfg.maxRetries)) {
      this.stats.timeouts++;
      if (pcb.state === TcpState.SynRcvd && !pcb.active) {
        this.free(pcb);
        return;
      }
      this.abortWith(pcb, Object.assign(new Error(syn ? 'connection timed out' : 'timeout'), { code: 'ETIMEDOUT' }));
      return;
    }
    pcb.rto.backoff();
    // RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); cwnd = 1 segment.
    const flight = seqDiff(pcb.sndMax, pcb.sndUna);
    pcb.ssthresh = Math.max(flight >> 1, 2 * pcb.mss);
    pcb.cwnd = pcb.mss;
    pcb.inRecovery = false;
    pcb.recover = pcb.sndMax; // RFC 6582 4: no fast retransmit for data sent before the timeout
    pcb.dupAcks = 0;
    pcb.rttStartNs = -1;
    // Go back N (lwIP's tcp_rexmit_rto): everything unacked is sent again as cwnd allows.
    pcb.unsent = pcb.unacked.concat(pcb.unsent);
    pcb.unacked = [];
    pcb.sndNxt = pcb.sndUna;
    this.output(pcb);
    if (pcb.rtoDeadline < 0 && pcb.unacked.length > 0) pcb.rtoDeadline = now + pcb.rto.rto;
  }

  /** Zero-window probe: one byte of the first unsent segment, beyond the window. */
  private probe(pcb: TcpPcb, now: number): void {
    if (pcb.sndWnd > 0 || pcb.unsent.length === 0 || pcb.unacked.length > 0) return;
    const s = pcb.unsent[0]!;
    if (s.len === 0 || s.data === undefined) return;
    this.stats.zeroWindowProbes++;
    const one = sliceChain(s.data, 0, 1);
    this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, s.seq, pcb.rcvNxt, TcpFlags.ACK, this.advertisedWindow(pcb, false), EMPTY_OPTIONS, one, 1);
    one.releaseChain();
    // The probe byte is sent sequence space: an ACK for it must not look like one for unsent data.
    const end = seqAdd(s.seq, 1);
    if (seqGt(end, pcb.sndMax)) pcb.sndMax = end;
    if (seqGt(end, pcb.sndNxt)) pcb.sndNxt = end;
    pcb.rto.backoff();
    pcb.persistDeadline = now + pcb.rto.rto;
  }

  // ================================================================ input

  /**
   * A TCP segment at bytes[off, off+len) of `frame` (a view of the RX buffer). Takes ownership
   * of `frame` and returns true when a payload view was kept (delivered or queued); otherwise
   * the caller releases the frame. Never throws.
   */
  input(frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address, dst: Ipv4Address): boolean {
    const st = this.stats;
    const seg = this.seg;
    const f = seg.wrap(bytes, off, len, src, dst);
    if (f !== null) {
      if (f.reason === 'bad-checksum') st.badChecksum++;
      else st.malformed++;
      return false;
    }
    if (seg.readOptions(this.opts) !== null) {
      st.malformed++;
      return false;
    }
    st.segmentsIn++;
    const srcPort = seg.srcPort;
    const dstPort = seg.dstPort;
    if (srcPort === 0 || dstPort === 0) {
      st.malformed++;
      return false;
    }
    const pcb = this.lookup(src, srcPort, dstPort);
    if (pcb !== undefined) return this.process(pcb, frame, seg);
    const flags = seg.flags;
    if ((flags & TcpFlags.RST) !== 0) return false;
    const l = this.listeners.get(dstPort) ?? this.anyPortListener;
    if (l !== undefined && (flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN) {
      this.passiveOpen(l, seg, src);
      return false;
    }
    this.rstReply(seg, src);
    return false;
  }

  /** RFC 9293 3.10.7.1: a reset for a segment that belongs to no connection. */
  private rstReply(seg: TcpSegment, src: Ipv4Address): void {
    this.stats.rstSent++;
    if (seg.ackFlag) this.emit(seg.dstPort, src, seg.srcPort, seg.ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
    else this.emit(seg.dstPort, src, seg.srcPort, 0, seqAdd(seg.seq, seg.segmentLength), TcpFlags.RST | TcpFlags.ACK, 0, EMPTY_OPTIONS, undefined, 0);
  }

  private passiveOpen(l: TcpListenerImpl, seg: TcpSegment, src: Ipv4Address): void {
    if (l.halfOpen >= this.config.synBacklog) {
      this.stats.backlogDrops++;
      return; // the peer retries its SYN
    }
    const pcb = this.newPcb(seg.dstPort, src, seg.srcPort, currentCore(), false);
    pcb.listener = l;
    l.halfOpen++;
    pcb.state = TcpState.SynRcvd;
    this.takeSynOptions(pcb);
    pcb.irs = seg.seq;
    pcb.rcvNxt = seqAdd(seg.seq, 1);
    pcb.sndWnd = seg.window; // unscaled in a SYN
    pcb.sndWl1 = seg.seq;
    this.initSend(pcb);
    pcb.sndWl2 = pcb.iss;
    pcb.cwnd = pcb.mss;
    pcb.unsent.push({ seq: pcb.iss, len: 0, data: undefined, syn: true, fin: false, sends: 0 });
    this.output(pcb);
  }

  private takeSynOptions(pcb: TcpPcb): void {
    const o = this.opts;
    if (o.mss !== null && o.mss > 0) pcb.mss = Math.min(this.config.mss, o.mss);
    else pcb.mss = Math.min(this.config.mss, 536);
    if (o.windowScale !== null) {
      pcb.sndScale = Math.min(o.windowScale, TCP_MAX_WINDOW_SCALE);
      pcb.rcvScale = this.ourScale;
    } else {
      pcb.sndScale = 0;
      pcb.rcvScale = 0;
    }
    pcb.rcvWnd = Math.min(this.config.receiveWindow, 0xffff * 2 ** pcb.rcvScale);
  }

  private initialCwnd(pcb: TcpPcb): number {
    // RFC 5681 3.1 initial window.
    const m = pcb.mss;
    return m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
  }

  private process(pcb: TcpPcb, frame: IOBuf, seg: TcpSegment): boolean {
    const flags = seg.flags;
    const now = this.env.nowNs();
    if (pcb.state === TcpState.SynSent) {
      this.synSentInput(pcb, seg, flags);
      return false;
    }
    const segSeq = seg.seq;
    let payloadLen = seg.payloadLength;
    const segLen = seg.segmentLength;
    const rcvWnd = pcb.rcvWnd;
    // Acceptability (RFC 9293 3.10.7.4).
    const acceptable =
      segLen === 0
        ? seqGeq(segSeq, pcb.rcvNxt) && seqLt(segSeq, seqAdd(pcb.rcvNxt, rcvWnd)) || segSeq === pcb.rcvNxt
        : (seqGeq(segSeq, pcb.rcvNxt) && seqLt(segSeq, seqAdd(pcb.rcvNxt, rcvWnd))) ||
          (seqGt(seqAdd(segSeq, segLen), pcb.rcvNxt) && seqLeq(seqAdd(segSeq, segLen), seqAdd(pcb.rcvNxt, rcvWnd)));
    if (!acceptable) {
      this.stats.duplicateSegments++;
      if ((flags & TcpFlags.RST) === 0) this.sendAck(pcb);
      return false;
    }
    if ((flags & TcpFlags.RST) !== 0) {
      this.stats.rstReceived++;
      if (segSeq !== pcb.rcvNxt) {
        this.sendAck(pcb); // RFC 5961 challenge ACK
        return false;
      }
      if (pcb.state === TcpState.SynRcvd && !pcb.active) {
        this.free(pcb);
        return false;
      }
      if (pcb.state === TcpState.TimeWait || pcb.state === TcpState.LastAck || pcb.state === TcpState.Closing) {
        this.free(pcb);
        return false;
      }
      this.abortWith(pcb, Object.assign(new Error('connection reset by peer'), { code: 'ECONNRESET' }));
      return false;
    }
    if ((flags & TcpFlags.SYN) !== 0) {
      if (pcb.state === TcpState.SynRcvd && segSeq === pcb.irs) {
        // Retransmitted SYN: our SYN-ACK was lost; it will be retransmitted by the RTO.
        return false;
      }
      this.sendAck(pcb); // RFC 5961 4: challenge ACK
      return false;
    }
    if ((flags & TcpFlags.ACK) === 0) return false;
    const ack = seg.ack;
    // ---- ACK processing
    if (pcb.state === TcpState.SynRcvd) {
      if (seqGt(ack, pcb.sndUna) && seqLeq(ack, pcb.sndMax)) {
        if (pcb.listener !== undefined) pcb.listener.halfOpen--;
        const l = pcb.listener;
        pcb.listener = undefined;
        pcb.state = pcb.finQueued ? TcpState.FinWait1 : TcpState.Established;
        pcb.sndWnd = seg.window * 2 ** pcb.sndScale;
        pcb.sndWl1 = segSeq;
        pcb.sndWl2 = ack;
        this.ackReceived(pcb, ack, now);
        pcb.cwnd = this.initialCwnd(pcb);
        if (pcb.active) pcb.callback((h) => h.connected?.(pcb));
        else if (l !== undefined) {
          if (l.closed) {
            this.sendRstFor(pcb);
            this.free(pcb);
            return false;
          }
          try {
            pcb.handler = l.accept(pcb);
          } catch {
            this.stats.handlerErrors++;
          }
          if (pcb.handler === undefined) {
            pcb.abort();
            return false;
          }
        }
        if (isClosed(pcb)) return false;
      } else {
        this.stats.rstSent++;
        this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
        return false;
      }
    } else {
      if (seqGt(ack, pcb.sndMax)) {
        this.sendAck(pcb);
        return false;
      }
      const wnd = seg.window * 2 ** pcb.sndScale;
      if (seqLeq(ack, pcb.sndUna)) {
        // Duplicate ACK (RFC 5681 2)?
        if (ack === pcb.sndUna && payloadLen === 0 && (flags & TcpFlags.FIN) === 0 && wnd === pcb.sndWnd && pcb.unacked.length > 0) {
          this.dupAck(pcb);
        }
      } else {
        this.ackReceived(pcb, ack, now);
        if (pcb.state === TcpState.Closed) return false;
      }
      // Window update (RFC 9293 3.10.7.4).
      if (seqLt(pcb.sndWl1, segSeq) || (pcb.sndWl1 === segSeq && seqLeq(pcb.sndWl2, ack))) {
        const opened = wnd > pcb.sndWnd;
        pcb.sndWnd = wnd;
        pcb.sndWl1 = segSeq;
        pcb.sndWl2 = ack;
        if (wnd > 0) pcb.persistDeadline = -1;
        if (opened) {
          pcb.flushAppQueue();
          this.output(pcb);
          this.maybeWindowIncreased(pcb);
        }
      }
    }
    if (pcb.state === TcpState.Closed) return false;
    // ---- data and FIN
    let kept = false;
    const canReceive = pcb.state === TcpState.Established || pcb.state === TcpState.FinWait1 || pcb.state === TcpState.FinWait2;
    const fin = (flags & TcpFlags.FIN) !== 0;
    if ((payloadLen > 0 || fin) && canReceive) {
      let start = segSeq;
      let trim = 0;
      if (seqLt(start, pcb.rcvNxt)) {
        trim = Math.min(seqDiff(pcb.rcvNxt, start), payloadLen);
        start = seqAdd(start, trim);
      }
      const dataLen = payloadLen - trim;
      // Zero copy: narrow the RX buffer view to the (trimmed) payload.
      frame.advance(seg.payloadOffset + trim - frame.offset);
      frame.trimEnd(frame.length - dataLen);
      // Clip to the receive window.
      const room = seqDiff(seqAdd(pcb.rcvNxt, rcvWnd), start);
      let finHere = fin;
      if (dataLen > room) {
        frame.trimEnd(dataLen - Math.max(0, room));
        finHere = false;
      }
      if (start === pcb.rcvNxt) {
        kept = frame.length > 0;
        if (frame.length > 0) {
          pcb.rcvNxt = seqAdd(pcb.rcvNxt, frame.length);
          this.deliver(pcb, frame);
        }
        let gotFin = finHere;
        if (finHere) pcb.ooo.clear();
        else if (pcb.ooo.size > 0) {
          // Only with segments held out of order: the drain's closures are not free per segment.
          pcb.rcvNxt = pcb.ooo.drain(pcb.rcvNxt, (d) => this.deliver(pcb, d), () => {
            gotFin = true;
          });
        }
        if (gotFin) this.finInput(pcb, now);
        else this.ackData(pcb);
      } else {
        this.stats.outOfOrder++;
        if (frame.length > 0 || finHere) {
          const held = frame.length > 0 ? frame : IOBuf.wrap(new Uint8Array(0));
          kept = frame.length > 0;
          if (!pcb.ooo.insert(start, held, finHere)) this.stats.duplicateSegments++;
        }
        this.sendAck(pcb); // immediate duplicate ACK for fast retransmit at the sender
      }
    } else if (payloadLen > 0 || fin) {
      // Data after our receive side ended (FIN already received): just acknowledge.
      if (!isClosed(pcb)) this.sendAck(pcb);
    }
    return kept;
  }

  private deliver(pcb: TcpPcb, data: IOBuf): void {
    if (pcb.handler === undefined || pcb.silenced) {
      data.release();
      return;
    }
    // The handler owns `data` once called; if the connection was silenced meanwhile, release it.
    pcb.receiveCallback(data);
  }

  private finInput(pcb: TcpPcb, now: number): void {
    pcb.rcvNxt = seqAdd(pcb.rcvNxt, 1);
    pcb.finReceived = true;
    this.sendAck(pcb);
    switch (pcb.state) {
      case TcpState.Established:
        pcb.state = TcpState.CloseWait;
        break;
      case TcpState.FinWait1:
        pcb.state = TcpState.Closing;
        break;
      case TcpState.FinWait2:
        this.enterTimeWait(pcb, now);
        break;
    }
    pcb.callback((h) => h.closed?.(pcb));
  }

  private enterTimeWait(pcb: TcpPcb, now: number): void {
    pcb.state = TcpState.TimeWait;
    pcb.rtoDeadline = -1;
    pcb.persistDeadline = -1;
    pcb.timeWaitDeadline = now + 2 * this.config.mslNs;
    this.armTimer(pcb);
  }

  private synSentInput(pcb: TcpPcb, seg: TcpSegment, flags: number): void {
    const ackFlag = (flags & TcpFlags.ACK) !== 0;
    const ack = seg.ack;
    if (ackFlag && (seqLeq(ack, pcb.iss) || seqGt(ack, pcb.sndMax))) {
      if ((flags & TcpFlags.RST) === 0) {
        this.stats.rstSent++;
        this.emit(pcb.localPort, pcb.remoteIp, pcb.remotePort, ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
      }
      return;
    }
    if ((flags & TcpFlags.RST) !== 0) {
      this.stats.rstReceived++;
      if (ackFlag) this.abortWith(pcb, Object.assign(new Error(`connection refused by ${pcb.remoteAddress}:${pcb.remotePort}`), { code: 'ECONNREFUSED' }));
      return;
    }
    if ((flags & TcpFlags.SYN) === 0) return;
    this.takeSynOptions(pcb);
    pcb.irs = seg.seq;
    pcb.rcvNxt = seqAdd(seg.seq, 1);
    const now = this.env.nowNs();
    if (ackFlag) {
      pcb.state = TcpState.Established;
      pcb.sndWnd = seg.window * 2 ** pcb.sndScale;
      pcb.sndWl1 = seg.seq;
      pcb.sndWl2 = ack;
      this.ackReceived(pcb, ack, now);
      pcb.cwnd = this.initialCwnd(pcb);
      this.sendAck(pcb);
      pcb.callback((h) => h.connected?.(pcb));
      if (pcb.finQueued) pcb.state = TcpState.FinWait1;
      pcb.flushAppQueue();
      this.output(pcb);
      this.maybeWindowIncreased(pcb);
    } else {
      // Simultaneous open (RFC 9293 3.5): SYN_RCVD, send SYN-ACK (our SYN again, with ACK).
      pcb.state = TcpState.SynRcvd;
      pcb.sndWnd = seg.window;
      pcb.sndWl1 = seg.seq;
      const syn = pcb.unacked.shift();
      if (syn !== undefined) pcb.unsent.unshift(syn);
      pcb.sndNxt = pcb.sndUna;
      this.output(pcb);
    }
  }

  /** A new cumulative ACK (sndUna < ack <= sndMax). */
  private ackReceived(pcb: TcpPcb, ack: number, now: number): void {
    const acked = seqDiff(ack, pcb.sndUna);
    // RTT sample (Karn: only segments sent once).
    if (pcb.rttStartNs >= 0 && seqGt(ack, pcb.rttSeq)) {
      pcb.rto.sample(now - pcb.rttStartNs);
      pcb.rttStartNs = -1;
    } else pcb.rto.resetBackoff();
    pcb.retries = 0;
    pcb.sndUna = ack;
    if (seqLt(pcb.sndNxt, ack)) pcb.sndNxt = ack;
    // Method calls, not a closure per ACK (this runs for every ACK that acknowledges data).
    const finAckedUnacked = this.releaseAcked(pcb, pcb.unacked, ack);
    const finAcked = this.releaseAcked(pcb, pcb.unsent, ack) || finAckedUnacked;
    // Congestion control.
    if (pcb.inRecovery) {
      if (seqGeq(ack, pcb.recover)) {
        // Full ACK (RFC 6582 3.2 step 3): deflate.
        pcb.inRecovery = false;
        pcb.cwnd = Math.min(pcb.ssthresh, Math.max(seqDiff(pcb.sndMax, pcb.sndUna), 0) + pcb.mss);
      } else {
        // Partial ACK: retransmit the first unacknowledged segment, deflate by the amount acked.
        const first = pcb.unacked[0];
        if (first !== undefined) this.transmitSeg(pcb, first, now);
        pcb.cwnd = Math.max(pcb.mss, pcb.cwnd - acked + pcb.mss);
      }
    } else if (pcb.state !== TcpState.SynSent && pcb.state !== TcpState.SynRcvd) {
      if (pcb.cwnd < pcb.ssthresh) pcb.cwnd += Math.min(acked, pcb.mss);
      else pcb.cwnd += Math.max(1, Math.floor((pcb.mss * pcb.mss) / pcb.cwnd));
    }
    pcb.dupAcks = 0;
    // Restart the retransmission timer (RFC 6298 5.3) or stop it (5.2).
    pcb.rtoDeadline = pcb.unacked.length > 0 ? now + pcb.rto.rto : -1;
    if (finAcked) {
      switch (pcb.state) {
        case TcpState.FinWait1:
          pcb.state = TcpState.FinWait2;
          break;
        case TcpState.Closing:
          this.enterTimeWait(pcb, now);
          break;
        case TcpState.LastAck:
          this.free(pcb);
          return;
      }
    }
    pcb.flushAppQueue();
    this.output(pcb);
    this.armTimer(pcb);
    this.maybeWindowIncreased(pcb);
  }

  /** Releases the segments of `q` wholly acknowledged by `ack`; true if one of them carried our FIN. */
  private releaseAcked(pcb: TcpPcb, q: SendSeg[], ack: number): boolean {
    let finAcked = false;
    let i = 0;
    while (i < q.length && seqLeq(segEnd(q[i]!), ack)) {
      const s = q[i]!;
      s.data?.releaseChain();
      s.data = undefined;
      pcb.buffered -= s.len;
      if (s.fin) finAcked = true;
      i++;
    }
    if (i > 0) q.splice(0, i);
    return finAcked;
  }

  private dupAck(pcb: TcpPcb): void {
    pcb.dupAcks++;
    if (pcb.inRecovery) {
      pcb.cwnd += pcb.mss; // inflate
      this.output(pcb);
      return;
    }
    if (pcb.dupAcks === 3 && seqGeq(pcb.sndUna, pcb.recover)) {
      // Fast retransmit (RFC 5681 3.2, RFC 6582 3.2 step 2).
      this.stats.fastRetransmits++;
      const flight = seqDiff(pcb.sndMax, pcb.sndUna);
      pcb.ssthresh = Math.max(flight >> 1, 2 * pcb.mss);
      pcb.recover = pcb.sndMax;
      pcb.inRecovery = true;
      const first = pcb.unacked[0]!;
      this.transmitSeg(pcb, first, this.env.nowNs());
      pcb.cwnd = pcb.ssthresh + 3 * pcb.mss;
      this.output(pcb);
    }
  }

  private maybeWindowIncreased(pcb: TcpPcb): void {
    if (!pcb.wantWindow || pcb.appQueue.length > 0 || pcb.silenced) return;
    if (pcb.sendWindowRemaining() <= 0) return;
    pcb.wantWindow = false;
    pcb.callback((h) => h.sendWindowIncreased?.(pcb));
  }

  /** Number of pcbs in the table, by state (tests, tools). */
  pcbStates(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.pcbs.values()) out[p.state] = (out[p.state] ?? 0) + 1;
    return out;
  }
}


/** Re-reads the state after calls that may have freed the pcb (defeats TS narrowing). */
function isClosed(pcb: TcpPcb): boolean {
  return pcb.state === TcpState.Closed;
}
