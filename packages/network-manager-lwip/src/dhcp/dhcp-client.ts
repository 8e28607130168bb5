// DHCP client (RFC 2131) for the native stack: INIT → SELECTING → REQUESTING → BOUND, then
// RENEWING at T1 (unicast REQUEST to the server), REBINDING at T2 (broadcast REQUEST), and back
// to INIT when the lease expires or a NAK arrives. The protocol logic reads no clock and no
// random source itself: time, timers and transaction ids come through `DhcpEnv`, so xids are
// drawn from the simulation's seeded PRNG and every run replays exactly.
//
// The client owns UDP port 68 on the interface. While unconfigured the interface's address is
// 0.0.0.0 (netmask 0), so it accepts only limited-broadcast datagrams (the interface's IPv4 input
// always accepts 255.255.255.255); the broadcast flag asks the server to reply that way.

import { IOBuf, type TimerHandle } from '@ebbrt/interfaces';
import type { NetInterface } from '../iface/net-interface.js';
import type { UdpSocketImpl } from '../iface/udp.js';
import {
  BootpOp,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessage,
  DhcpMessageType,
  DhcpOption,
  dhcpLength,
  emitDhcp,
  type DhcpRepr,
} from '../wire/dhcp.js';
import { ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { readU32 } from '../wire/result.js';

export type DhcpState = 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding' | 'failed';

export interface DhcpConfig {
  /** First retransmission timeout (RFC 2131 4.1: 4 s), doubled per retry. */
  retryInitialUs: number;
  /** Cap of the doubled timeout (RFC 2131 4.1: 64 s). */
  retryMaxUs: number;
  /** DISCOVERs (or REQUESTs) sent in one phase before giving up on it; also bounds restarts. */
  maxAttempts: number;
}

export interface DhcpEnv {
  nowNs(): number;
  startTimer(fn: () => void, delayUs: number): TimerHandle;
  /** A transaction id (u32) from a deterministic source. */
  nextXid(): number;
}

export interface DhcpStats {
  discoversSent: number;
  requestsSent: number;
  /** Retransmitted DISCOVERs/REQUESTs (included in the two counts above). */
  retransmissions: number;
  offersReceived: number;
  acksReceived: number;
  naksReceived: number;
  /** Replies with another xid, another client MAC, or an unexpected message type for the state. */
  ignored: number;
  /** Datagrams on port 68 that do not parse as DHCP replies (or lack a required option). */
  malformed: number;
  /** Leases obtained (initial and after restarts). */
  leases: number;
  /** Leases extended by a RENEWING/REBINDING ACK. */
  renewals: number;
  /** Returns to INIT (NAK, REQUEST phase gave up, lease expired). */
  restarts: number;
  /** Times the client gave up (state 'failed'). */
  failures: number;
}

export interface DhcpLease {
  address: Ipv4Address;
  netmask: Ipv4Address;
  gateway: Ipv4Address | undefined;
  serverId: Ipv4Address;
  leaseTimeS: number;
  /** Virtual times (ns) of T1, T2 and expiry, from the moment the REQUEST was sent. */
  t1Ns: number;
  t2Ns: number;
  expiresNs: number;
}

const INFINITE = 0xffffffff;
const MIN_RENEW_RETRY_US = 60_000_000; // RFC 2131 4.4.5

export class DhcpClient {
  state: DhcpState = 'init';
  readonly stats: DhcpStats = {
    discoversSent: 0,
    requestsSent: 0,
    retransmissions: 0,
    offersReceived: 0,
    acksReceived: 0,
    naksReceived: 0,
    ignored: 0,
    malformed: 0,
    leases: 0,
    renewals: 0,
    restarts: 0,
    failures: 0,
  };
  lease: DhcpLease | undefined;
  /** Why the client failed (state 'failed'). */
  error: Error | undefined;
  private readonly socket: UdpSocketImpl;
  private xid = 0;
  private attempts = 0;
  private restartsInRow = 0;
  private timeoutUs = 0;
  private startedNs = 0;
  private requestSentNs = 0;
  private offered: { address: Ipv4Address; serverId: Ipv4Address } | undefined;
  private timer: TimerHandle | undefined;
  private leaseTimer: TimerHandle | undefined;
  private waiters: Array<{ ok: () => void; fail: (e: Error) => void }> = [];

  constructor(
    private readonly iface: NetInterface,
    private readonly env: DhcpEnv,
    private readonly config: DhcpConfig,
  ) {
    this.socket = iface.udpBind(DHCP_CLIENT_PORT, (_from, data) => this.input(data));
  }

  /** True while the interface holds a lease (BOUND, RENEWING, REBINDING). */
  get bound(): boolean {
    return this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding';
  }

  /** Starts acquiring a lease (call on a core: it starts timers). */
  start(): void {
    if (this.state !== 'init' && this.state !== 'failed') return;
    this.error = undefined;
    this.restartsInRow = 0;
    this.discover();
  }

  /** `ok` once a lease is held (at once if already), `fail` if the client gives up. */
  whenBound(ok: () => void, fail: (e: Error) => void): void {
    if (this.bound) ok();
    else if (this.state === 'failed' && this.error !== undefined) fail(this.error);
    else this.waiters.push({ ok, fail });
  }

  /** Stops timers and closes port 68 (the address stays as is). */
  stop(): void {
    this.timer?.stop();
    this.leaseTimer?.stop();
    this.socket.close();
  }

  // ------------------------------------------------------------------ sending

  private discover(): void {
    this.state = 'selecting';
    this.xid = this.env.nextXid();
    this.startedNs = this.env.nowNs();
    this.attempts = 0;
    this.timeoutUs = this.config.retryInitialUs;
    this.offered = undefined;
    this.sendDiscover();
  }

  private sendDiscover(): void {
    if (this.attempts > 0) this.stats.retransmissions++;
    this.attempts++;
    this.stats.discoversSent++;
    this.send(this.message(DhcpMessageType.Discover, 0, null, null, true), IPV4_BROADCAST_TEXT);
    this.armRetry(() => {
      if (this.attempts >= this.config.maxAttempts) this.fail(`no DHCPOFFER after ${this.attempts} DISCOVERs`);
      else this.sendDiscover();
    });
  }

  private sendSelectingRequest(): void {
    const o = this.offered!;
    if (this.attempts > 0) this.stats.retransmissions++;
    this.attempts++;
    this.stats.requestsSent++;
    this.requestSentNs = this.env.nowNs();
    this.send(this.message(DhcpMessageType.Request, 0, o.address, o.serverId, true), IPV4_BROADCAST_TEXT);
    this.armRetry(() => {
      if (this.attempts >= this.config.maxAttempts) this.restart();
      else this.sendSelectingRequest();
    });
  }

  /** RENEWING: unicast to the server, ciaddr set; REBINDING: broadcast. No requested-IP/server-id (RFC 2131 4.3.2). */
  private sendRenewRequest(): void {
    const l = this.lease!;
    this.stats.requestsSent++;
    this.requestSentNs = this.env.nowNs();
    const unicast = this.state === 'renewing';
    this.send(this.message(DhcpMessageType.Request, l.address, null, null, false), unicast ? ipv4ToString(l.serverId) : IPV4_BROADCAST_TEXT);
    // Retransmit after half the time left until T2 (renewing) or expiry (rebinding), at least 60 s.
    const until = unicast ? l.t2Ns : l.expiresNs;
    const leftUs = (until - this.env.nowNs()) / 1000;
    if (leftUs / 2 >= MIN_RENEW_RETRY_US) {
      this.timer?.stop();
      this.timer = this.env.startTimer(() => {
        this.stats.retransmissions++;
        this.sendRenewRequest();
      }, leftUs / 2);
    }
  }

  private message(type: DhcpMessageType, ciaddr: Ipv4Address, requestedIp: Ipv4Address | null, serverId: Ipv4Address | null, broadcast: boolean): DhcpRepr {
    return {
      op: BootpOp.Request,
      messageType: type,
      transactionId: this.xid,
      secs: Math.min(0xffff, Math.floor((this.env.nowNs() - this.startedNs) / 1e9)),
      broadcast,
      clientIp: ciaddr,
      yourIp: 0,
      serverIp: 0,
      relayIp: 0,
      clientMac: this.iface.config.mac,
      subnetMask: null,
      routers: [],
      dnsServers: [],
      requestedIp,
      leaseTime: null,
      serverId,
      parameterRequestList: [DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DnsServer, DhcpOption.LeaseTime, DhcpOption.RenewalTime, DhcpOption.RebindingTime],
      maxMessageSize: 576,
    };
  }

  private send(repr: DhcpRepr, dst: string): void {
    const bytes = new Uint8Array(dhcpLength(repr));
    emitDhcp(repr, bytes, 0);
    this.socket.sendTo(dst, DHCP_SERVER_PORT, IOBuf.wrap(bytes));
  }

  private armRetry(fn: () => void): void {
    this.timer?.stop();
    const us = this.timeoutUs;
    this.timeoutUs = Math.min(us * 2, this.config.retryMaxUs);
    this.timer = this.env.startTimer(fn, us);
  }

  // ------------------------------------------------------------------ state changes

  /** Back to INIT: drop the address (if any) and DISCOVER again; gives up after maxAttempts restarts in a row. */
  private restart(): void {
    this.timer?.stop();
    this.leaseTimer?.stop();
    this.stats.restarts++;
    this.unconfigure();
    this.restartsInRow++;
    if (this.restartsInRow > this.config.maxAttempts) {
      this.fail(`gave up after ${this.restartsInRow - 1} restarts`);
      return;
    }
    this.discover();
  }

  private fail(why: string): void {
    this.timer?.stop();
    this.state = 'failed';
    this.stats.failures++;
    this.error = new Error(`DHCP on ${this.iface.config.name}: ${why}`);
    for (const w of this.waiters.splice(0)) w.fail(this.error);
  }

  private unconfigure(): void {
    const cfg = this.iface.config;
    cfg.address = 0;
    cfg.netmask = 0;
    cfg.gateway = undefined;
    this.lease = undefined;
  }

  private bind(m: DhcpMessage, leaseS: number, serverId: Ipv4Address): void {
    const b = m.bytes;
    const at = (code: number): number => {
      const i = m.findOption(code);
      return i >= 0 && b[i - 1] === 4 ? readU32(b, i) : -1;
    };
    const address = m.yourIp;
    const maskOpt = at(DhcpOption.SubnetMask);
    const netmask = maskOpt >= 0 ? maskOpt : classfulMask(address);
    const router = at(DhcpOption.Router); // first router of the list
    const gateway = router > 0 ? router : undefined;
    const base = this.requestSentNs;
    let t1Ns = Infinity;
    let t2Ns = Infinity;
    let expiresNs = Infinity;
    if (leaseS !== INFINITE) {
      const t1 = at(DhcpOption.RenewalTime);
      const t2 = at(DhcpOption.RebindingTime);
      expiresNs = base + leaseS * 1e9;
      t2Ns = base + (t2 >= 0 && t2 < leaseS ? t2 : leaseS * 0.875) * 1e9;
      t1Ns = base + (t1 >= 0 && t1 * 1e9 < t2Ns - base ? t1 : leaseS * 0.5) * 1e9;
    }
    const cfg = this.iface.config;
    cfg.address = address;
    cfg.netmask = netmask;
    cfg.gateway = gateway;
    this.lease = { address, netmask, gateway, serverId, leaseTimeS: leaseS, t1Ns, t2Ns, expiresNs };
    this.timer?.stop();
    this.state = 'bound';
    this.restartsInRow = 0;
    this.scheduleLease();
    for (const w of this.waiters.splice(0)) w.ok();
  }

  /** One timer for the next lease deadline (T1, T2, expiry). */
  private scheduleLease(): void {
    this.leaseTimer?.stop();
    const l = this.lease;
    if (l === undefined) return;
    const now = this.env.nowNs();
    const next = this.state === 'bound' ? l.t1Ns : this.state === 'renewing' ? l.t2Ns : l.expiresNs;
    if (next === Infinity) return;
    this.leaseTimer = this.env.startTimer(() => this.leaseDeadline(), Math.max(0, (next - now) / 1000));
  }

  private leaseDeadline(): void {
    if (this.state === 'bound') {
      this.state = 'renewing';
      this.xid = this.env.nextXid();
      this.startedNs = this.env.nowNs();
      this.sendRenewRequest();
      this.scheduleLease();
    } else if (this.state === 'renewing') {
      this.state = 'rebinding';
      this.sendRenewRequest();
      this.scheduleLease();
    } else if (this.state === 'rebinding') {
      this.restart(); // lease expired
    }
  }

  // ------------------------------------------------------------------ receive

  private input(data: IOBuf): void {
    let bytes: Uint8Array;
    let off: number;
    let len: number;
    if (data.isChained()) {
      const flat = data.coalesce();
      bytes = flat.bytes;
      off = flat.offset;
      len = flat.length;
    } else {
      bytes = data.bytes;
      off = data.offset;
      len = data.length;
    }
    try {
      this.handle(bytes, off, len);
    } finally {
      data.releaseChain();
    }
  }

  private handle(bytes: Uint8Array, off: number, len: number): void {
    const s = this.stats;
    const m = DhcpMessage.parse(bytes, off, len);
    if (!m.ok || m.op !== BootpOp.Reply) {
      s.malformed++;
      return;
    }
    const type = m.messageType;
    if (type < 0) {
      s.malformed++;
      return;
    }
    if (m.transactionId !== this.xid || m.clientMac !== this.iface.config.mac) {
      s.ignored++;
      return;
    }
    const sidAt = m.findOption(DhcpOption.ServerId);
    const serverId = sidAt >= 0 && bytes[sidAt - 1] === 4 ? readU32(bytes, sidAt) : -1;
    if (type === DhcpMessageType.Offer) {
      if (this.state !== 'selecting') {
        s.ignored++;
        return;
      }
      if (serverId < 0 || m.yourIp === 0) {
        s.malformed++;
        return;
      }
      s.offersReceived++;
      // Take the first offer (lwIP does too).
      this.offered = { address: m.yourIp, serverId };
      this.state = 'requesting';
      this.attempts = 0;
      this.timeoutUs = this.config.retryInitialUs;
      this.sendSelectingRequest();
      return;
    }
    const requesting = this.state === 'requesting';
    const renewing = this.state === 'renewing' || this.state === 'rebinding';
    if ((type !== DhcpMessageType.Ack && type !== DhcpMessageType.Nak) || !(requesting || renewing)) {
      s.ignored++;
      return;
    }
    if (requesting && serverId >= 0 && serverId !== this.offered!.serverId) {
      s.ignored++; // another server's answer to our broadcast REQUEST
      return;
    }
    if (type === DhcpMessageType.Nak) {
      s.naksReceived++;
      this.restart();
      return;
    }
    const ltAt = m.findOption(DhcpOption.LeaseTime);
    if (ltAt < 0 || bytes[ltAt - 1] !== 4 || m.yourIp === 0) {
      s.malformed++;
      return;
    }
    const leaseS = readU32(bytes, ltAt);
    s.acksReceived++;
    if (renewing) {
      if (m.yourIp !== this.lease!.address) {
        this.restart(); // the server moved us: start over rather than switch addresses under live connections
        return;
      }
      s.renewals++;
      this.bind(m, leaseS, serverId >= 0 ? serverId : this.lease!.serverId);
      return;
    }
    s.leases++;
    this.bind(m, leaseS, serverId >= 0 ? serverId : this.offered!.serverId);
  }
}

const IPV4_BROADCAST_TEXT = '255.255.255.255';

/** RFC 2132 3.3 has no default; fall back to the classful mask (lwIP does the same). */
function classfulMask(a: Ipv4Address): Ipv4Address {
  const top = a >>> 24;
  if (top < 128) return 0xff000000;
  if (top < 192) return 0xffff0000;
  return 0xffffff00;
}
