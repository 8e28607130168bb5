// The protocol control block (lwIP's tcp_pcb): one connection's state, and its application side
// (the TcpConnection the handler sees): send/sendQueued, shutdown/close/abort, the send window,
// and handler callbacks on the connection's core. Segment arrival is in input.ts, output in
// output.ts, timers in timers.ts.

import { IOBuf, UsageError, type TcpConnection, type TcpHandler, type TimerHandle } from '@ebbrt/interfaces';
import { ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { dropFront, sliceChain } from './chain.js';
import type { TcpListenerImpl } from './listener.js';
import { output, sendRstFor, windowMaybeOpened } from './output.js';
import { armKeepalive, armTimer } from './timers.js';
import { ReassemblyQueue } from './reassembly.js';
import { RtoEstimator } from './rto.js';
import { seqAdd } from './seq.js';
import type { TcpStack } from './stack.js';
import { currentCore, isSynchronized, pcbKey, segEnd, TcpState, type SendSeg, type TcpStateName } from './types.js';

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
  /** SACK-permitted on both SYNs (RFC 2018): SACK blocks are sent and RFC 6675 recovery is used. */
  sackOk = false;
  /** Timestamps on both SYNs (RFC 7323): every segment carries TSval/TSecr. */
  tsOk = false;
  /** TS.Recent: the peer's latest in-order TSval, echoed in our TSecr. */
  tsRecent = 0;
  /** Added to our millisecond clock in TSval (RFC 7323 5.4: random per connection on realtime runs). */
  tsOffset = 1;
  /** The ACK being handled covered retransmitted data (Karn: no timed sample; the timestamp gives one). */
  ackedRetransmitted = false;
  /** RFC 6675 pipe: bytes estimated in flight (computed by sack.ts scanScoreboard). */
  pipe = 0;
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
  /** When the tail loss probe is due (ns; -1: none). */
  tlpDeadline = -1;
  /** A probe was sent and no new ACK came since; `tlpSeq` is the probed segment's sequence number. */
  tlpActive = false;
  tlpSeq = 0;
  persistDeadline = -1;
  timeWaitDeadline = -1;
  /** Keepalive idle time (ns), or -1 when keepalive is off. */
  keepaliveIdleNs = -1;
  /** When the peer was last heard from (ns): any segment resets the keepalive idle time. */
  lastRcvNs = 0;
  /** Keepalive probes sent since the peer was last heard. */
  kaProbesSent = 0;
  keepaliveDeadline = -1;
  /** User timeout (ns; 0: off) and when the oldest unacknowledged data was first sent (-1: none). */
  userTimeoutNs = 0;
  unackedSinceNs = -1;
  timer: TimerHandle | undefined;
  timerAt = -1;

  // receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** Nagle off (true) or on (false); see setNoDelay. */
  noDelay: boolean;
  /** RCV.NXT as carried by the last segment we sent (so a reply that piggybacked it needs no pure ACK). */
  ackSent = -1;
  /** In-order segments received since we last acknowledged. */
  segsUnacked = 0;
  /** Waiting in the stack's end-of-batch window-update list. */
  ackPending = false;
  /** When a delayed ACK is due (ns; -1: none pending). */
  delAckDeadline = -1;
  rcvScale = 0;
  /** Largest receive window we can offer (the buffer, as far as the advertised field can express it). */
  rcvWnd = 0xffff;
  /** pauseReceive() called: in-order payload is held (rxHeld) instead of delivered. */
  rxPaused = false;
  /** In-order payload not yet given to the handler (paused), oldest first. */
  readonly rxHeld: IOBuf[] = [];
  /** Bytes in rxHeld plus deliveries posted to another core and not yet run: not in the window. */
  rcvHeld = 0;
  /** The peer's FIN arrived while data was held: `closed` follows the drain. */
  closedHeld = false;
  /** The right edge of the window we last advertised (RCV.NXT + RCV.WND then); never moved left. */
  rcvAdvEdge = 0;
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
    this.noDelay = stack.config.noDelay ?? true;
    this.userTimeoutNs = stack.config.userTimeoutNs ?? 0;
    if (stack.config.keepalive === true) this.keepaliveIdleNs = stack.config.keepaliveIdleNs ?? 7200e9;
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

  setNoDelay(noDelay: boolean): void {
    if (typeof noDelay !== 'boolean') throw new UsageError(`setNoDelay: expected a boolean, got ${typeof noDelay}`);
    this.noDelay = noDelay;
    if (noDelay) output(this.stack, this); // a small segment Nagle held goes now
  }

  setKeepAlive(enable: boolean, idleMs?: number): void {
    if (typeof enable !== 'boolean') throw new UsageError(`setKeepAlive: expected a boolean, got ${typeof enable}`);
    if (idleMs !== undefined && !(Number.isFinite(idleMs) && idleMs > 0)) throw new RangeError(`setKeepAlive: idleMs must be a positive number, got ${idleMs}`);
    this.keepaliveIdleNs = enable ? (idleMs !== undefined ? idleMs * 1e6 : (this.stack.config.keepaliveIdleNs ?? 7200e9)) : -1;
    this.kaProbesSent = 0;
    this.lastRcvNs = this.stack.env.nowNs();
    armKeepalive(this.stack, this);
  }

  /** User timeout in ms (0: off): unacknowledged data older than this aborts the connection (lwIP-only). */
  setUserTimeout(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`setUserTimeout: ms must be a non-negative number, got ${ms}`);
    this.userTimeoutNs = ms * 1e6;
    armTimer(this.stack, this);
  }

  pauseReceive(): void {
    this.rxPaused = true;
  }

  resumeReceive(): void {
    if (!this.rxPaused) return;
    this.rxPaused = false;
    this.drainHeld();
    if (this.state !== TcpState.Closed && !this.finReceived) windowMaybeOpened(this.stack, this);
  }

  /**
   * Hands in-order payload to the handler (ownership passes), or holds it while paused or while
   * earlier data is still held. Held bytes are not in the receive window.
   */
  deliver(data: IOBuf): void {
    if (this.handler === undefined || this.silenced) {
      data.release();
      return;
    }
    if (this.rxPaused || this.rxHeld.length > 0) {
      this.rxHeld.push(data);
      this.rcvHeld += data.length;
      return;
    }
    this.receiveCallback(data);
  }

  /** The peer's FIN, after every byte before it reached the handler. */
  deliverClosed(): void {
    if (this.rxHeld.length > 0) {
      this.closedHeld = true;
      return;
    }
    this.callback((h) => h.closed?.(this));
  }

  private drainHeld(): void {
    const q = this.rxHeld;
    let i = 0;
    while (i < q.length && !this.rxPaused) {
      const d = q[i]!;
      this.rcvHeld -= d.length;
      i++;
      this.receiveCallback(d);
    }
    if (i > 0) q.splice(0, i);
    if (q.length === 0 && this.closedHeld && !this.rxPaused) {
      this.closedHeld = false;
      this.callback((h) => h.closed?.(this));
    }
  }

  /** Releases what the application never took (the connection is gone). */
  releaseHeld(): void {
    for (const d of this.rxHeld) d.release();
    this.rxHeld.length = 0;
    this.rcvHeld = 0;
    this.closedHeld = false;
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
    output(this.stack, this);
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
      output(this.stack, this);
      return;
    }
    this.wantWindow = true;
    this.appQueue.push(data);
    this.appQueued += length;
    this.flushAppQueue();
    output(this.stack, this);
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
    const last = this.unsent.length > 0 ? this.unsent[this.unsent.length - 1]! : undefined;
    let seq = last !== undefined ? segEnd(last) : this.unacked.length > 0 ? segEnd(this.unacked[this.unacked.length - 1]!) : this.sndNxt;
    let off = 0;
    if (last !== undefined && last.data !== undefined && !last.syn && !last.fin && last.sends === 0 && last.len < this.mss) {
      // Top up a partly filled unsent segment (what lets Nagle coalesce small writes).
      const n = Math.min(this.mss - last.len, length);
      last.data.appendChain(sliceChain(data, 0, n));
      last.len += n;
      seq = seqAdd(seq, n);
      off = n;
    }
    while (off < length) {
      const n = Math.min(this.mss, length - off);
      this.unsent.push({ seq, len: n, data: sliceChain(data, off, n), syn: false, fin: false, sends: 0, sacked: false, rexmit: false });
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
    this.queueFin();
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
      this.queueFin();
    }
  }

  abort(): void {
    this.silenced = true;
    if (this.state === TcpState.Closed) return;
    if (this.state !== TcpState.SynSent && this.state !== TcpState.TimeWait) sendRstFor(this.stack, this);
    this.stack.free(this);
  }

  /** Queues our FIN after everything queued (on the last unsent segment when there is one). */
  queueFin(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    const last = this.unsent.length > 0 ? this.unsent[this.unsent.length - 1]! : undefined;
    if (last !== undefined && !last.syn) last.fin = true;
    else {
      const seq = last !== undefined ? segEnd(last) : this.unacked.length > 0 ? segEnd(this.unacked[this.unacked.length - 1]!) : this.sndNxt;
      this.unsent.push({ seq, len: 0, data: undefined, syn: false, fin: true, sends: 0, sacked: false, rexmit: false });
    }
    if (this.state === TcpState.Established || this.state === TcpState.SynRcvd) this.state = TcpState.FinWait1;
    else if (this.state === TcpState.CloseWait) this.state = TcpState.LastAck;
    output(this.stack, this);
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

  /** `callback(h => h.sendWindowIncreased?.(this))` without a closure per ACK when on the pcb's core. */
  windowIncreasedCallback(): void {
    const h = this.handler;
    if (h === undefined || this.silenced || h.sendWindowIncreased === undefined) return;
    if (currentCore() !== this.coreIndex) {
      this.callback((x) => x.sendWindowIncreased?.(this));
      return;
    }
    const phases = this.stack.phases;
    const t0 = phases === undefined ? 0 : phases.now();
    try {
      h.sendWindowIncreased(this);
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
      // Until the handler's core runs it, the data is not consumed: keep it out of the window.
      const n = data.length;
      this.rcvHeld += n;
      this.stack.env.post(this.coreIndex, () => {
        this.rcvHeld -= n;
        this.runCallback(h, (x) => x.receive(this, data), () => data.release());
        if (this.state !== TcpState.Closed && !this.finReceived) windowMaybeOpened(this.stack, this);
      });
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
