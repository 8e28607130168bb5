import { z } from 'zod';
import {
  inSubnet,
  ipv4ToString,
  isIpv4Broadcast,
  isIpv4Loopback,
  isIpv4Multicast,
  maskToPrefix,
  parseIpv4Address,
  prefixToMask,
  type Ipv4Address,
} from './wire/ipv4-address.js';

const ipv4Text = z.string().superRefine((text, ctx) => {
  const r = parseIpv4Address(text);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `"${text}" is not a dotted-quad IPv4 address (${r.reason})` });
});

/**
 * Options of the native NetworkManager. `address` is 'a.b.c.d/prefix' (or 'a.b.c.d' with
 * `netmask`). Everything else has a default.
 */
/** Bytes of a receive buffer besides the MTU: the virtio-net header and the Ethernet header. */
const RX_FRAME_OVERHEAD = 12 + 14;

const lwipOptionsObject = z.strictObject({
  /** This node's address, e.g. '10.0.0.2/24', or 'dhcp' (RFC 2131 client, src/dhcp/). */
  address: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|dhcp)$/, "an IPv4 address such as '10.0.0.2/24', or 'dhcp'"),
  /** Dotted-quad netmask; required when `address` has no prefix length. */
  netmask: ipv4Text.optional(),
  gateway: ipv4Text.optional(),
  /** 'aa:bb:cc:dd:ee:ff'; default 52:54:00 + the machine id. */
  mac: z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "a MAC such as '02:00:00:00:00:01'").optional(),
  mtu: z.number().int().min(576).max(9000).default(1500),
  rxRingSize: z.number().int().min(2).max(32768).default(256),
  txRingSize: z.number().int().min(2).max(32768).default(256),
  rxBufferSize: z.number().int().min(1536).max(65536 + 12).default(2048),
  txBacklogLimit: z.number().int().min(0).default(4096),
  pollFramesPerInterrupt: z.number().int().min(1).default(16),
  pollRateFrames: z.number().int().min(1).default(64),
  pollRateWindowUs: z.number().positive().default(100),
  pollIdleUs: z.number().positive().default(50),
  rxBudget: z.number().int().min(1).default(64),
  /**
   * Interrupt-mode safety net against lost used-ring interrupts (0 = off, the default): every this
   * many µs each core looks at its rings and services what it finds, as the handler would have.
   * Off by default because a periodic timer keeps a virtual-clock run from ever going quiescent,
   * unless it is a background one (`interruptWatchdogBackground`).
   */
  interruptWatchdogUs: z.number().min(0).default(0),
  /**
   * Run the watchdog as a background timer (the Timer's `background`): it ticks while anything
   * else is pending, and a virtual-clock run whose only pending work is watchdog ticks is
   * quiescent, so an app under `ebbrt test` can have the watchdog (and with it the device status
   * poll) and still end. Off by default, which keeps existing traces as they were: a foreground
   * watchdog runs a bounded (`untilNs`) run to its end.
   */
  interruptWatchdogBackground: z.boolean().default(false),
  /**
   * Recover from a device that needs a reset (DEVICE_NEEDS_RESET and its configuration interrupt):
   * reset it, negotiate again and set every core's queue pair up again. On by default; off leaves
   * such a NIC dead (only to see what the recovery buys).
   */
  deviceResetRecovery: z.boolean().default(true),
  /**
   * Core 0 also reads the device status on its watchdog (`interruptWatchdogUs`) and polling-mode
   * ticks, so a device whose DEVICE_NEEDS_RESET interrupt was lost is still recovered. On by
   * default; it costs a register read per tick and no timer of its own.
   */
  deviceStatusPolling: z.boolean().default(true),
  arpRetries: z.number().int().min(0).max(100).default(3),
  arpRetryUs: z.number().positive().default(1000),
  arpExpiryUs: z.number().positive().default(60_000_000),
  arpQueueLimit: z.number().int().min(1).default(64),
  arpCacheSize: z.number().int().min(1).default(256),
  /** IPv4 reassembly: a datagram not complete this long after its first fragment is discarded (Linux: 30 s). */
  ipReassemblyTimeoutUs: z.number().positive().max(255_000_000).default(30_000_000),
  /** ICMP errors (port unreachable): token bucket rate per second and burst, as Linux's icmp_msgs_per_sec/_burst. */
  icmpErrorRatePerSec: z.number().positive().default(1000),
  icmpErrorBurst: z.number().int().min(1).default(50),
  /** ... and per peer: one per interval, `icmpErrorPeerBurst` saved up (Linux icmp_ratelimit = 1 s, burst 6). */
  icmpErrorPeerIntervalUs: z.number().positive().default(1_000_000),
  icmpErrorPeerBurst: z.number().int().min(1).default(6),
  /** Ignore pings to 255.255.255.255 and the subnet's broadcast (no smurf amplification), as Linux does by default. */
  icmpEchoIgnoreBroadcasts: z.boolean().default(true),
  /** TCP receive window offered per connection, bytes (window scaling above 64 KiB). */
  tcpReceiveWindow: z.number().int().min(1024).max(1 << 30).default(256 * 1024),
  /** TCP send buffer per connection (bytes acceptable to send()/queued until acked). */
  tcpSendBuffer: z.number().int().min(1024).default(256 * 1024),
  tcpRtoInitialUs: z.number().positive().default(1_000_000),
  tcpRtoMinUs: z.number().positive().default(200_000),
  tcpRtoMaxUs: z.number().positive().default(60_000_000),
  tcpMaxRetries: z.number().int().min(1).default(12),
  tcpMaxSynRetries: z.number().int().min(1).default(6),
  /** Maximum segment lifetime: TIME_WAIT lasts 2 × MSL. */
  tcpMslUs: z.number().positive().default(30_000_000),
  /** Half-open (SYN_RCVD) connections per listener. */
  tcpSynBacklog: z.number().int().min(1).default(128),
  /** With the SYN backlog full, answer with SYN cookies (true) or evict the oldest half-open connection (false). */
  tcpSynCookies: z.boolean().default(true),
  /** Delayed ACK: a lone in-order segment is ACKed within this time (0: every segment at once). */
  tcpDelayedAckUs: z.number().min(0).max(500_000).default(40_000),
  /** Connections start with Nagle off (true, like the hosted NetworkManager's noDelay) or on; setNoDelay changes it. */
  tcpNoDelay: z.boolean().default(true),
  /** SACK (RFC 2018) with RFC 6675 loss recovery, when the peer offers it too; false: NewReno only. */
  tcpSack: z.boolean().default(true),
  /** Timestamps (RFC 7323) for RTT samples after retransmissions, when the peer offers them too (opt-in). */
  tcpTimestamps: z.boolean().default(false),
  /**
   * Tail loss probe (RFC 8985 7, with SACK): after max(2 SRTT, 10 ms) without an ACK, resend the
   * last segment; its SACK then marks the holes below it lost and SACK recovery repairs them, where
   * a lost tail otherwise waits for the retransmission timeout (200 ms minimum). Default off: it
   * changes ACK and retransmission timing, so every seeded digest. Measured on: the 20-seed fault
   * test (10 MB each way) spends 746 s virtual instead of 3741 s, still byte-exact.
   */
  tcpTailLossProbe: z.boolean().default(false),
  /** Keepalive on every connection (setKeepAlive changes it per connection). */
  tcpKeepalive: z.boolean().default(false),
  tcpKeepaliveIdleUs: z.number().positive().default(7_200_000_000),
  tcpKeepaliveIntervalUs: z.number().positive().default(75_000_000),
  tcpKeepaliveProbes: z.number().int().min(1).max(255).default(9),
  /** User timeout (RFC 9293 3.8.5): unacknowledged data this old aborts the connection; 0: off. */
  tcpUserTimeoutUs: z.number().min(0).default(0),
  /** DHCP (address: 'dhcp'): first retransmission timeout, doubled per retry up to dhcpRetryMaxUs. */
  dhcpRetryInitialUs: z.number().positive().default(4_000_000),
  dhcpRetryMaxUs: z.number().positive().default(64_000_000),
  /** DISCOVERs (or REQUESTs) per attempt, and restarts in a row, before the client gives up. */
  dhcpMaxAttempts: z.number().int().min(1).default(5),
});

/**
 * The addressing checks live here, in the schema, so whoever parses the options (the runtime's
 * install step, a test, a tool) gets every error with the field it belongs to, and the manifest's
 * `create` can take the parsed options as they are.
 */
export const lwipOptionsSchema = lwipOptionsObject.superRefine((o, ctx) => {
  // A receive buffer holds the virtio-net header (12 B) and a whole Ethernet frame (14 B + mtu):
  // a smaller one would make the device drop every full-size frame, silently to the sender.
  if (o.rxBufferSize < o.mtu + RX_FRAME_OVERHEAD) {
    ctx.addIssue({ code: 'custom', path: ['rxBufferSize'], message: `${o.rxBufferSize} cannot hold a frame of mtu ${o.mtu}: needs at least ${o.mtu + RX_FRAME_OVERHEAD} (mtu + 14 B Ethernet header + 12 B virtio-net header)` });
  }
  if (o.address === 'dhcp') return;
  for (const issue of checkAddressing(o).issues) ctx.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
});

export type LwipOptions = z.output<typeof lwipOptionsSchema>;

/** Static addressing as numbers. */
export interface Addressing {
  address: Ipv4Address;
  netmask: Ipv4Address;
  gateway: Ipv4Address | undefined;
}

interface AddressingCheck {
  issues: Array<{ field: 'address' | 'netmask' | 'gateway'; message: string }>;
  value: Addressing | undefined;
}

type AddressingFields = Pick<LwipOptions, 'address' | 'netmask' | 'gateway'>;

/**
 * The interface's address, netmask and gateway from options the schema accepted (0.0.0.0/0 and
 * no gateway with DHCP, until a lease is bound). Throws a RangeError naming the field only for
 * options that did not come through `lwipOptionsSchema`.
 */
export function addressingOf(o: AddressingFields): Addressing {
  if (o.address === 'dhcp') return { address: 0, netmask: 0, gateway: undefined };
  const r = checkAddressing(o);
  if (r.value === undefined) {
    const first = r.issues[0];
    throw new RangeError(`@ebbrt/network-manager-lwip: ${first === undefined ? 'netmask/gateway: not dotted-quad IPv4 addresses' : `${first.field}: ${first.message}`}`);
  }
  return r.value;
}

function checkAddressing(o: AddressingFields): AddressingCheck {
  const issues: AddressingCheck['issues'] = [];
  const [addrText, prefixText] = o.address.split('/');
  const a = parseIpv4Address(addrText!);
  const m = o.netmask === undefined ? undefined : parseIpv4Address(o.netmask);
  const g = o.gateway === undefined ? undefined : parseIpv4Address(o.gateway);
  if (!a.ok) {
    issues.push({ field: 'address', message: `"${addrText}" is not a dotted-quad IPv4 address (${a.reason})` });
    return { issues, value: undefined };
  }
  // Unparsable netmask/gateway text has been reported by the field's own check.
  if ((m !== undefined && !m.ok) || (g !== undefined && !g.ok)) return { issues, value: undefined };
  const address = a.value;
  let netmask: Ipv4Address;
  if (prefixText !== undefined) {
    const prefix = Number(prefixText);
    if (!(prefix >= 0 && prefix <= 32)) {
      issues.push({ field: 'address', message: `prefix length /${prefixText} is not in 0..32` });
      return { issues, value: undefined };
    }
    netmask = prefixToMask(prefix);
    if (m !== undefined && m.value !== netmask) {
      issues.push({ field: 'netmask', message: `${o.netmask} disagrees with the prefix length of address ${o.address} (${ipv4ToString(netmask)})` });
    }
  } else if (m !== undefined) {
    netmask = m.value;
    if (maskToPrefix(netmask) < 0) {
      issues.push({ field: 'netmask', message: `${o.netmask} is not a contiguous netmask` });
      return { issues, value: undefined };
    }
  } else {
    issues.push({ field: 'address', message: `${o.address} needs a prefix length ('10.0.0.2/24') or a netmask option` });
    return { issues, value: undefined };
  }
  // A host address: a node that took one of these would answer for a whole segment (RFC 1122 3.2.1.3).
  if (address === 0 || isIpv4Multicast(address) || isIpv4Loopback(address) || address === 0xffffffff) {
    issues.push({ field: 'address', message: `${addrText} is not a unicast host address` });
  } else if (maskToPrefix(netmask) <= 30 && isIpv4Broadcast(address, netmask)) {
    issues.push({ field: 'address', message: `${addrText} is the broadcast address of its subnet /${maskToPrefix(netmask)}` });
  }
  let gateway: Ipv4Address | undefined;
  if (g !== undefined) {
    gateway = g.value;
    if (!inSubnet(gateway, address, netmask)) {
      issues.push({ field: 'gateway', message: `${o.gateway} is outside ${ipv4ToString((address & netmask) >>> 0)}/${maskToPrefix(netmask)}: the next hop must be on the link` });
    }
  }
  return { issues, value: issues.length === 0 ? { address, netmask, gateway } : undefined };
}
