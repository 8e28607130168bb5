// The TCP layer's shared vocabulary: states, configuration, counters, what the stack needs from
// the interface layer (TcpEnv), the send-side segment record and small helpers every file uses.

import { cpu } from '@ebbrt/core-translation';
import type { IOBuf, TimerHandle } from '@ebbrt/interfaces';
import type { Ipv4Address } from '../wire/ipv4-address.js';
import { emptyTcpOptions, type TcpOptions } from '../wire/tcp-options.js';
import type { RtoConfig } from './rto.js';
import { seqAdd } from './seq.js';

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
  /**
   * With the backlog full: answer SYNs with a SYN cookie (RFC 4987, Linux's layout; default
   * true). Off: evict the listener's oldest half-open connection to make room.
   */
  synCookies?: boolean;
  /**
   * Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): a lone in-order segment is acknowledged after
   * at most this long unless a reply carries the ACK first; every second segment is ACKed at once.
   * Default 40 ms (Linux's minimum delayed-ACK time); 0 acknowledges every segment at once.
   */
  delayedAckNs?: number;
  /** Connections start with Nagle's algorithm off (true, the default, like TCP_NODELAY) or on. */
  noDelay?: boolean;
  /**
   * Offer and accept SACK (RFC 2018) with RFC 6675 loss recovery (default true). Read when a
   * connection's SYN is sent or handled. false: NewReno (RFC 6582) only.
   */
  sack?: boolean;
  /**
   * Offer and accept timestamps (RFC 7323; default false): RTT samples from echoed timestamps
   * for retransmitted data, where Karn's rule gives none. Read at SYN time. Off by default: with
   * millisecond ticks, samples in the simulation's microsecond-RTT networks inflate the RTO
   * (the 20-seed fault test then misses its time bound).
   */
  timestamps?: boolean;
  /**
   * Tail loss probe (RFC 8985 7; needs SACK): with data in flight and no ACK for
   * PTO = max(2 SRTT, 10 ms) (plus the delayed-ACK time when one segment is in flight), resend the
   * last unacknowledged segment. When the peer SACKs the probe, the unSACKed segments below it were
   * sent earlier and count as lost (RFC 8985 6.2's rule, applied to the probe only), so SACK
   * recovery starts at once instead of after the RTO. Default false.
   */
  tailLossProbe?: boolean;
  /** Keepalive on every connection from the start (default false; setKeepAlive per connection). */
  keepalive?: boolean;
  /** Idle time before the first keepalive probe (default 7200 s, RFC 1122 4.2.3.6 / Linux). */
  keepaliveIdleNs?: number;
  /** Between unanswered probes (default 75 s, Linux). */
  keepaliveIntervalNs?: number;
  /** Unanswered probes before the connection is reaped (default 9, Linux). */
  keepaliveProbes?: number;
  /**
   * User timeout (RFC 9293 3.8.5, the local half of RFC 5482): data unacknowledged this long
   * aborts the connection (ETIMEDOUT), whatever the retransmission count. 0 (default): only
   * maxRetries applies.
   */
  userTimeoutNs?: number;
}

export type TcpStats = {
  segmentsIn: number;
  segmentsOut: number;
  /** Segments sent that carried payload (first sends and retransmissions). */
  dataSegmentsOut: number;
  badChecksum: number;
  malformed: number;
  retransmits: number;
  fastRetransmits: number;
  /** Retransmission timer expiries that resent (go-back-N from SND.UNA with cwnd = 1 MSS). */
  rtoExpirations: number;
  /** Connections aborted after too many retransmissions ('timeout'). */
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
  /** SYN-ACKs carrying a SYN cookie (the listener's backlog was full). */
  synCookiesSent: number;
  /** Connections established from a valid cookie in the handshake's final ACK. */
  synCookiesAccepted: number;
  /** ACKs to a listener that had sent cookies, with no valid cookie (answered with RST). */
  synCookiesRejected: number;
  /** Half-open connections evicted (oldest first) for a new SYN, with cookies off. */
  halfOpenEvicted: number;
  /** Retransmitted SYNs in SYN-RECEIVED, answered with our SYN-ACK again. */
  synRetransmitsAnswered: number;
  /** Segments to a listener with neither SYN nor ACK (NULL, FIN, Xmas scans): dropped (RFC 9293 3.10.7.2). */
  listenerNoAckDrops: number;
  /** SYN+FIN segments to a listener: dropped (no connection is opened). */
  synFinDrops: number;
  /** Segments whose options area was malformed (bad option length): the options were ignored. */
  badOptions: number;
  /** Peer MSS values below 48 (TCP_MIN_SND_MSS, as Linux) raised to 48. */
  mssClamped: number;
  /** Pure ACKs sent because the application released held data and the window opened. */
  windowUpdates: number;
  /** Delayed ACKs sent by their timer (no reply carried them in time). */
  delayedAcks: number;
  /** Valid SACK blocks received (each marks segments on the scoreboard). */
  sackBlocksIn: number;
  /** SACK blocks sent in our ACKs (out-of-order data held). */
  sackBlocksOut: number;
  /** Loss recoveries run with SACK (RFC 6675). */
  sackRecoveries: number;
  /** Holes retransmitted by SACK recovery (besides the fast retransmit that starts it). */
  sackRetransmits: number;
  /** RTT samples taken from an echoed timestamp (RFC 7323 4) where no timed segment gave one. */
  tsRttSamples: number;
  /** Keepalive probes sent. */
  keepaliveProbes: number;
  /** Connections reaped because keepalive probes went unanswered. */
  keepaliveTimeouts: number;
  /** Connections aborted by the user timeout. */
  userTimeouts: number;
  /** Tail loss probes sent (tailLossProbe). */
  tailLossProbes: number;
};

export function newTcpStats(): TcpStats {
  return {
    segmentsIn: 0,
    segmentsOut: 0,
    dataSegmentsOut: 0,
    badChecksum: 0,
    malformed: 0,
    retransmits: 0,
    fastRetransmits: 0,
    rtoExpirations: 0,
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
    synCookiesSent: 0,
    synCookiesAccepted: 0,
    synCookiesRejected: 0,
    halfOpenEvicted: 0,
    synRetransmitsAnswered: 0,
    listenerNoAckDrops: 0,
    synFinDrops: 0,
    badOptions: 0,
    mssClamped: 0,
    windowUpdates: 0,
    delayedAcks: 0,
    sackBlocksIn: 0,
    sackBlocksOut: 0,
    sackRecoveries: 0,
    sackRetransmits: 0,
    tsRttSamples: 0,
    keepaliveProbes: 0,
    keepaliveTimeouts: 0,
    userTimeouts: 0,
    tailLossProbes: 0,
  };
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
   * With it, window updates after the application released data are sent once per batch;
   * without it, at once.
   */
  defer?(fn: () => void): void;
  /**
   * The core whose queue the NIC steers a flow's incoming segments to. With it, an active open
   * picks an ephemeral port whose replies land on the calling core, so the connection's input is
   * handled where it lives (no hop, and an ACK can ride on the next request).
   */
  rxCoreOf?(remote: Ipv4Address, remotePort: number, localPort: number): number;
  /**
   * Secret material for SYN cookies and ISNs: crypto-random on realtime runs, a seeded PRNG under
   * the virtual clock. Without it the key is a constant (tests).
   */
  randomU32?(): number;
  /**
   * True on realtime runs: initial sequence numbers per RFC 6528 (4 µs clock + a keyed hash of
   * the 4-tuple). False/absent: the deterministic ISS of virtual-clock runs.
   */
  secureIsn?: boolean;
}

/** One segment on the send side (lwIP's tcp_seg): views of the caller's buffers. */
export interface SendSeg {
  seq: number;
  /** Payload bytes. */
  len: number;
  /** Payload chain (views); undefined for SYN/FIN-only segments. */
  data: IOBuf | undefined;
  syn: boolean;
  fin: boolean;
  /** Times this segment was sent. */
  sends: number;
  /** Covered by a SACK block from the peer (RFC 2018): not to be retransmitted in recovery. */
  sacked: boolean;
  /** Retransmitted in the current SACK recovery (RFC 6675). */
  rexmit: boolean;
}

export function currentCore(): number {
  return cpu.current?.index ?? 0;
}

export function isSynchronized(s: TcpStateName): boolean {
  return s !== TcpState.Closed && s !== TcpState.SynSent && s !== TcpState.SynRcvd;
}

/** Re-reads the state after calls that may have freed the pcb (defeats TS narrowing). */
export function isClosed(pcb: { readonly state: TcpStateName }): boolean {
  return pcb.state === TcpState.Closed;
}

export function segEnd(s: SendSeg): number {
  return seqAdd(s.seq, s.len + (s.syn ? 1 : 0) + (s.fin ? 1 : 0));
}

export function pcbKey(remoteIp: Ipv4Address, remotePort: number, localPort: number): string {
  return `${remoteIp}:${remotePort}:${localPort}`;
}

/** Smallest peer MSS we honour (Linux's TCP_MIN_SND_MSS): a peer MSS of 1 would cut replies into 1-byte segments. */
export const TCP_MIN_SND_MSS = 48;

/** Bytes the timestamp option takes in every segment once negotiated (NOP, NOP, TS). */
export const TCP_TS_OPTION_LEN = 12;

export const EMPTY_OPTIONS = Object.freeze(emptyTcpOptions()) as TcpOptions;
