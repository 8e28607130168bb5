// What the interface layer is given, smoltcp style: a configuration it reads (DHCP rewrites the
// address fields in place), a link that transmits frames, and the node's time and memory passed
// in. Nothing under iface/ reads a clock, starts a timer or allocates through an Ebb by itself,
// so the layers can be driven by a Simulation, a test harness or a different NIC alike.

import type { IOBuf, TimerHandle } from '@ebbrt/interfaces';
import type { Ipv4Address } from '../wire/ipv4-address.js';
import type { MacAddress } from '../wire/mac-address.js';

export interface IfaceConfig {
  name: string;
  mac: MacAddress;
  address: Ipv4Address;
  netmask: Ipv4Address;
  gateway: Ipv4Address | undefined;
  mtu: number;
  arpRetries: number;
  arpRetryUs: number;
  arpExpiryUs: number;
  arpQueueLimit: number;
  arpCacheSize: number;
  /** A datagram under reassembly is discarded this long after its first fragment. */
  ipReassemblyTimeoutUs: number;
  /** ICMP error token bucket: tokens per second and bucket size (Linux icmp_msgs_per_sec / _burst). */
  icmpErrorRatePerSec: number;
  icmpErrorBurst: number;
  /** Per peer: one ICMP error per interval, up to `icmpErrorPeerBurst` saved up (Linux icmp_ratelimit). */
  icmpErrorPeerIntervalUs: number;
  icmpErrorPeerBurst: number;
  /** Ignore echo requests to a broadcast address (Linux icmp_echo_ignore_broadcasts). */
  icmpEchoIgnoreBroadcasts: boolean;
}

/** Sends a finished frame chain (`headroom` bytes of link header space first) on the current core. */
export type TransmitFn = (chain: IOBuf) => void;

/**
 * The NIC as the interface sees it. `headroom` is how many bytes the driver needs in front of
 * the Ethernet header of every transmitted frame (virtio-net: its 12-byte header); the
 * interface lays its headers out after that and knows nothing else of the device.
 */
export interface NetLink {
  readonly headroom: number;
  readonly transmit: TransmitFn;
}

/** The node's services, passed in. */
export interface IfaceEnv {
  /** Current time in ns (the simulation's clock). */
  nowNs(): number;
  /** One-shot timer on the calling core. */
  startTimer(fn: () => void, delayUs: number): TimerHandle;
  /** A buffer in physical (device-reachable) memory; may throw when memory is exhausted. */
  allocIOBuf(size: number): IOBuf;
}

/**
 * An upper-layer protocol's input: the IPv4 payload at `bytes[off, off+len)`, which lies inside
 * `frame`. Returns true when it kept `frame` (it now owns it), false to let the caller release it.
 */
export type L4Input = (frame: IOBuf, bytes: Uint8Array, off: number, len: number, src: Ipv4Address, dst: Ipv4Address) => boolean;
