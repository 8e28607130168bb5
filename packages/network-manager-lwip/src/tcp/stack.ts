// The TCP stack (RFC 9293) with lwIP's architecture: protocol control blocks (TcpPcb)
// demultiplexed on the 4-tuple, listeners by port; this file is the node-wide part: listen,
// connect, the pcb table, demultiplexing of incoming segments, passive open, the reset for
// segments that belong to no connection. Per connection: pcb.ts (state, the application's
// TcpConnection), input.ts (the state machine), output.ts, timers.ts, congestion.ts.
//
// Cores: a pcb is bound to a core (`core`): the caller of tcpConnect, or for accepted
// connections the core whose RX queue took the SYN (RSS over the 4-tuple). Segments are
// processed on the core that received them (RSS keeps a flow on one core); handler callbacks
// run on the pcb's core: directly when that is the current core, else posted to it through the
// Event Manager (FIFO per core, so callback order is kept). Timers are per-pcb deadlines checked
// by one Timer Ebb timer per pcb, started on the core that armed it. One JS thread: no locks.

import { UsageError, type IOBuf, type TcpConnection, type TcpHandler } from '@ebbrt/interfaces';
import { ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { ChecksumWords } from '../wire/checksum.js';
import { TcpFlags, TcpSegment } from '../wire/tcp.js';
import { emptyTcpOptions, resetTcpOptions, TCP_MAX_WINDOW_SCALE, type TcpOptions } from '../wire/tcp-options.js';
import type { PhaseTrace } from '../phase-trace.js';
import { pcbInput } from './input.js';
import { TcpListenerImpl } from './listener.js';
import { DeferredAcks, emit, output } from './output.js';
import { TcpPcb } from './pcb.js';
import { COOKIE_PERIOD_NS, HalfSipHash, rfc6528Isn, SynCookies, type CookieData } from './secrets.js';
import { seqAdd } from './seq.js';
import { currentCore, EMPTY_OPTIONS, newTcpStats, pcbKey, TCP_MIN_SND_MSS, TCP_TS_OPTION_LEN, TcpState, type TcpConfig, type TcpEnv, type TcpStats } from './types.js';

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
  /** Which SYNs the any-port listener takes (the gateway's policy); the rest get a RST like a closed port. */
  private anyPortAdmit: ((remote: string, localPort: number) => boolean) | undefined;
  readonly stats: TcpStats = newTcpStats();
  private readonly seg = new TcpSegment(new Uint8Array(0), 0, 0);
  /** The options of the segment being handled (reused: no allocation per segment). */
  readonly opts: TcpOptions = emptyTcpOptions();
  /** The options of our pure ACKs when they carry SACK blocks (reused). */
  readonly ackOpts: TcpOptions = emptyTcpOptions();
  /** The options our SYNs carry (reused). */
  readonly synOpts: TcpOptions = emptyTcpOptions();
  readonly deferredAcks = new DeferredAcks(this);
  /** The 32-bit view output checksums segments through (frames of this node share one buffer). */
  readonly words = new ChecksumWords();
  private nextEphemeral = 49152;
  private issCounter = 0x1234567;
  /** Keyed hash for SYN cookies and RFC 6528 ISNs (key from env.randomU32). */
  private readonly hasher: HalfSipHash;
  private readonly cookies: SynCookies;
  private readonly cookieData: CookieData = { mss: 0, windowScale: null, sackPermitted: false };
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
    const rnd = env.randomU32;
    this.hasher = new HalfSipHash(rnd === undefined ? 0x243f6a88 : rnd(), rnd === undefined ? 0x85a308d3 : rnd());
    this.cookies = new SynCookies(this.hasher);
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
  listenAnyPort(accept: (c: TcpConnection) => TcpHandler, core: number, admit?: (remote: string, localPort: number) => boolean): TcpListenerImpl {
    if (typeof accept !== 'function') throw new UsageError('listenAnyPort: accept must be a function');
    if (this.anyPortListener !== undefined) throw new UsageError('listenAnyPort: there is already an any-port listener');
    this.anyPortListener = new TcpListenerImpl(this, 0, accept, core);
    this.anyPortAdmit = admit;
    return this.anyPortListener;
  }

  unlisten(l: TcpListenerImpl): void {
    if (this.anyPortListener === l) {
      this.anyPortListener = undefined;
      this.anyPortAdmit = undefined;
    }
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
    pcb.unsent.push({ seq: pcb.iss, len: 0, data: undefined, syn: true, fin: false, sends: 0, sacked: false, rexmit: false });
    pcb.cwnd = pcb.mss; // the SYN
    output(this, pcb);
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
    if (this.env.secureIsn === true) {
      pcb.iss = rfc6528Isn(this.hasher, this.env.localAddress(), pcb.remoteIp, pcb.localPort, pcb.remotePort, this.env.nowNs());
      this.setIss(pcb);
      return;
    }
    // Deterministic ISS under the virtual clock (virtual time + counter): reproducible runs.
    this.issCounter = (Math.imul(this.issCounter ^ (this.env.nowNs() / 1000) ^ (pcb.localPort << 16) ^ pcb.remotePort, 2654435761) + 12345) >>> 0;
    pcb.iss = this.issCounter;
    this.setIss(pcb);
  }

  /** RFC 7323 5.4: a per-connection timestamp offset, unpredictable on realtime runs. */
  private setTsOffset(pcb: TcpPcb): void {
    if (this.env.secureIsn === true) pcb.tsOffset = this.hasher.hash5(pcb.remoteIp, pcb.localPort, pcb.remotePort, 0x7323, 3) | 1;
  }

  private setIss(pcb: TcpPcb): void {
    this.setTsOffset(pcb);
    pcb.sndUna = pcb.iss;
    pcb.sndNxt = pcb.iss;
    pcb.sndMax = pcb.iss;
    pcb.recover = pcb.iss;
  }

  /** Frees a pcb: releases every buffer, stops its timer, removes it from the table. */
  free(pcb: TcpPcb): void {
    if (pcb.state === TcpState.SynRcvd) pcb.listener?.halfOpen.delete(pcb);
    pcb.state = TcpState.Closed;
    for (const s of pcb.unacked) s.data?.releaseChain();
    for (const s of pcb.unsent) s.data?.releaseChain();
    for (const d of pcb.appQueue) d.releaseChain();
    pcb.unacked = [];
    pcb.unsent = [];
    pcb.appQueue = [];
    pcb.buffered = 0;
    pcb.ooo.clear();
    pcb.releaseHeld();
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

  abortWith(pcb: TcpPcb, reason: Error): void {
    // The last callback: earlier (posted) callbacks still run before it; nothing follows it.
    pcb.callback((h) => {
      pcb.silenced = true;
      h.aborted?.(pcb, reason);
    });
    this.free(pcb);
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
      // One bad option length (RFC 9293 3.2: "must be prepared to handle an illegal option
      // length"): the area cannot be trusted, so the segment is handled as if it had no options.
      st.badOptions++;
      resetTcpOptions(this.opts);
    }
    st.segmentsIn++;
    const srcPort = seg.srcPort;
    const dstPort = seg.dstPort;
    if (srcPort === 0 || dstPort === 0) {
      st.malformed++;
      return false;
    }
    const pcb = this.lookup(src, srcPort, dstPort);
    if (pcb !== undefined) return pcbInput(this, pcb, frame, seg);
    const flags = seg.flags;
    if ((flags & TcpFlags.RST) !== 0) return false;
    const l = this.listeners.get(dstPort) ?? this.anyPortListener;
    // The any-port listener (a gateway) takes only what its policy admits; the rest is CLOSED to it.
    if (l === undefined || (l === this.anyPortListener && !this.admitsAnyPort(src, dstPort))) {
      this.rstReply(seg, src); // CLOSED (RFC 9293 3.10.7.1)
      return false;
    }
    return this.listenInput(l, frame, seg, src, flags);
  }

  /** A segment for a listener (LISTEN, RFC 9293 3.10.7.2; RST already ignored). */
  private listenInput(l: TcpListenerImpl, frame: IOBuf, seg: TcpSegment, src: Ipv4Address, flags: number): boolean {
    if ((flags & TcpFlags.ACK) !== 0) {
      if ((flags & TcpFlags.SYN) === 0 && l.cookiesUntilNs >= this.env.nowNs()) {
        const pcb = this.cookieOpen(l, seg, src);
        if (pcb !== undefined) return pcbInput(this, pcb, frame, seg);
        this.stats.synCookiesRejected++;
      }
      this.rstReply(seg, src);
      return false;
    }
    if ((flags & TcpFlags.SYN) === 0) {
      // NULL, FIN, Xmas... without ACK: "drop the segment and return" (no RST: scanners learn nothing).
      this.stats.listenerNoAckDrops++;
      return false;
    }
    if ((flags & TcpFlags.FIN) !== 0) {
      this.stats.synFinDrops++; // SYN+FIN is no valid open (Linux drops it too)
      return false;
    }
    this.passiveOpen(l, seg, src);
    return false;
  }

  /** The gateway's policy for a SYN to the any-port listener (a string only per such SYN). */
  private admitsAnyPort(src: Ipv4Address, dstPort: number): boolean {
    return this.anyPortAdmit === undefined || this.anyPortAdmit(ipv4ToString(src), dstPort);
  }

  /** RFC 9293 3.10.7.1: a reset for a segment that belongs to no connection. */
  private rstReply(seg: TcpSegment, src: Ipv4Address): void {
    this.stats.rstSent++;
    if (seg.ackFlag) emit(this, seg.dstPort, src, seg.srcPort, seg.ack, 0, TcpFlags.RST, 0, EMPTY_OPTIONS, undefined, 0);
    else emit(this, seg.dstPort, src, seg.srcPort, 0, seqAdd(seg.seq, seg.segmentLength), TcpFlags.RST | TcpFlags.ACK, 0, EMPTY_OPTIONS, undefined, 0);
  }

  private passiveOpen(l: TcpListenerImpl, seg: TcpSegment, src: Ipv4Address): void {
    if (l.halfOpen.size >= this.config.synBacklog) {
      this.stats.backlogDrops++;
      if (this.config.synCookies !== false) {
        this.sendCookie(l, seg, src);
        return;
      }
      // Without cookies, the oldest half-open entry makes room (a flood's SYNs are older than
      // a real client's, which then completes within one RTT).
      const oldest = l.halfOpen.values().next().value;
      if (oldest !== undefined) {
        this.stats.halfOpenEvicted++;
        this.free(oldest);
      }
    }
    const pcb = this.newPcb(seg.dstPort, src, seg.srcPort, currentCore(), false);
    pcb.listener = l;
    l.halfOpen.add(pcb);
    pcb.state = TcpState.SynRcvd;
    this.takeSynOptions(pcb);
    pcb.irs = seg.seq;
    pcb.rcvNxt = seqAdd(seg.seq, 1);
    pcb.rcvAdvEdge = seqAdd(pcb.rcvNxt, Math.min(this.config.receiveWindow, 0xffff)); // the SYN-ACK's window
    pcb.sndWnd = seg.window; // unscaled in a SYN
    pcb.sndWl1 = seg.seq;
    this.initSend(pcb);
    pcb.sndWl2 = pcb.iss;
    pcb.cwnd = pcb.mss;
    pcb.unsent.push({ seq: pcb.iss, len: 0, data: undefined, syn: true, fin: false, sends: 0, sacked: false, rexmit: false });
    output(this, pcb);
  }

  /** A stateless SYN-ACK whose ISN is a SYN cookie (RFC 4987 3.6). */
  private sendCookie(l: TcpListenerImpl, seg: TcpSegment, src: Ipv4Address): void {
    const o = this.opts;
    const d = this.cookieData;
    d.mss = this.peerMss(o.mss);
    d.windowScale = o.windowScale;
    d.sackPermitted = o.sackPermitted;
    const now = this.env.nowNs();
    const cookie = this.cookies.make(src, this.env.localAddress(), seg.srcPort, seg.dstPort, seg.seq, now, d);
    // An ACK may carry a cookie for two cookie periods after the last one was sent (Linux).
    l.cookiesUntilNs = now + 2 * COOKIE_PERIOD_NS;
    this.stats.synCookiesSent++;
    const syn = this.synOpts;
    syn.mss = this.config.mss;
    syn.windowScale = o.windowScale === null ? null : this.ourScale;
    syn.sackPermitted = this.config.sack !== false && o.sackPermitted;
    syn.hasTimestamp = false; // a cookie cannot remember TS.Recent: the connection runs without timestamps
    emit(this, seg.dstPort, src, seg.srcPort, cookie, seqAdd(seg.seq, 1), TcpFlags.SYN | TcpFlags.ACK, Math.min(this.config.receiveWindow, 0xffff), syn, undefined, 0);
  }

  /**
   * The final ACK of a handshake we answered with a cookie: the pcb, in SYN_RCVD with its SYN
   * as sent, when the cookie is valid (pcbInput then completes the handshake); else undefined.
   */
  private cookieOpen(l: TcpListenerImpl, seg: TcpSegment, src: Ipv4Address): TcpPcb | undefined {
    const peerIsn = seqAdd(seg.seq, -1);
    const iss = seqAdd(seg.ack, -1);
    const d = this.cookies.check(src, this.env.localAddress(), seg.srcPort, seg.dstPort, peerIsn, iss, this.env.nowNs());
    if (d === null) return undefined;
    this.stats.synCookiesAccepted++;
    const pcb = this.newPcb(seg.dstPort, src, seg.srcPort, currentCore(), false);
    pcb.listener = l;
    l.halfOpen.add(pcb);
    pcb.state = TcpState.SynRcvd;
    pcb.mss = Math.min(this.config.mss, d.mss);
    this.takeWindowScale(pcb, d.windowScale);
    pcb.sackOk = this.config.sack !== false && d.sackPermitted;
    pcb.irs = peerIsn;
    pcb.rcvNxt = seg.seq;
    pcb.rcvAdvEdge = seqAdd(pcb.rcvNxt, Math.min(this.config.receiveWindow, 0xffff)); // the cookie SYN-ACK's window
    pcb.sndWnd = seg.window;
    pcb.sndWl1 = peerIsn;
    pcb.iss = iss;
    this.setIss(pcb);
    pcb.sndWl2 = iss;
    pcb.cwnd = pcb.mss;
    // Our SYN as if sent once (no RTT sample from it: its send time is unknown).
    pcb.unacked.push({ seq: iss, len: 0, data: undefined, syn: true, fin: false, sends: 1, sacked: false, rexmit: false });
    pcb.sndNxt = seg.ack;
    pcb.sndMax = seg.ack;
    return pcb;
  }

  /** The MSS we use towards a peer that announced `mss` (RFC 9293 3.7.1; at least TCP_MIN_SND_MSS). */
  private peerMss(mss: number | null): number {
    if (mss === null) return Math.min(this.config.mss, 536);
    if (mss < TCP_MIN_SND_MSS) {
      this.stats.mssClamped++;
      return Math.min(this.config.mss, TCP_MIN_SND_MSS);
    }
    return Math.min(this.config.mss, mss);
  }

  private takeWindowScale(pcb: TcpPcb, windowScale: number | null): void {
    if (windowScale !== null) {
      pcb.sndScale = Math.min(windowScale, TCP_MAX_WINDOW_SCALE);
      pcb.rcvScale = this.ourScale;
    } else {
      pcb.sndScale = 0;
      pcb.rcvScale = 0;
    }
    pcb.rcvWnd = Math.min(this.config.receiveWindow, 0xffff * 2 ** pcb.rcvScale);
  }

  takeSynOptions(pcb: TcpPcb): void {
    const o = this.opts;
    pcb.mss = this.peerMss(o.mss);
    this.takeWindowScale(pcb, o.windowScale);
    pcb.sackOk = this.config.sack !== false && o.sackPermitted;
    pcb.tsOk = this.config.timestamps === true && o.hasTimestamp;
    if (pcb.tsOk) {
      pcb.tsRecent = o.tsVal;
      // Every segment now carries 12 bytes of options: the payload per segment shrinks (as Linux's 1448).
      pcb.mss = Math.max(TCP_MIN_SND_MSS, pcb.mss - TCP_TS_OPTION_LEN);
    }
  }

  /** Number of pcbs in the table, by state (tests, tools). */
  pcbStates(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.pcbs.values()) out[p.state] = (out[p.state] ?? 0) + 1;
    return out;
  }
}
