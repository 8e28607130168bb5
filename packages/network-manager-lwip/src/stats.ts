/**
 * The stack's counters as the declared `NetworkStats` (a tool's snapshot): the NIC's device
 * counters, the interface and TCP counters, the drops by reason and the connections. Built only
 * when asked (from the counters the stack keeps anyway), never on the data path.
 */
import type { Counters, NetworkStats, TcpConnectionInfo } from '@ebbrt/interfaces';
import { DROP_COUNTERS, type NetCounters } from './iface/counters.js';
import type { TcpStats } from './tcp/types.js';
import type { TcpStack } from './tcp/stack.js';
import type { VirtioNetStats } from '@ebbrt/hw-x86sim';
import { ipv4ToString } from './wire/index.js';

/** TCP counters that count a segment or a connection thrown away, by reason. */
export const TCP_DROP_COUNTERS: readonly (keyof TcpStats)[] = [
  'badChecksum', 'malformed', 'backlogDrops', 'listenerNoAckDrops', 'synFinDrops', 'synCookiesRejected', 'halfOpenEvicted',
];

/** NIC counters that count a frame lost in the device. */
export const NIC_DROP_COUNTERS: readonly (keyof VirtioNetStats)[] = [
  'rxDroppedNoBuffer', 'rxDroppedNotReady', 'rxErrors', 'txErrors', 'txDroppedNoLink', 'ringErrors',
];

/** Copies `counters` into `out` (keys prefixed by `outPrefix`), except drops: the non-zero ones go to `drops` as `prefix.key`. */
function split(counters: Counters, dropKeys: readonly string[], prefix: string, out: Record<string, number>, outPrefix: string, drops: Record<string, number>): void {
  const isDrop = new Set(dropKeys);
  for (const [k, v] of Object.entries(counters)) {
    if (!isDrop.has(k)) out[outPrefix + k] = v;
    else if (v !== 0) drops[`${prefix}.${k}`] = v;
  }
}

function connectionsOf(tcp: TcpStack, localAddress: string): TcpConnectionInfo[] {
  const out: TcpConnectionInfo[] = [];
  for (const p of tcp.pcbs.values()) {
    out.push({
      localAddress,
      localPort: p.localPort,
      remoteAddress: ipv4ToString(p.remoteIp),
      remotePort: p.remotePort,
      state: p.state,
      core: p.coreIndex,
      sendQueued: p.buffered + p.appQueued,
      receiveQueued: p.rcvHeld + p.ooo.bytes,
    });
  }
  return out;
}

/**
 * `nic` is the device's counters, `nicDrops` those of them that count a lost frame; `driver` the
 * node-wide driver counters (virtio-net's resets, the direct port's), `driverDrops` its drops.
 */
export function networkStatsOf(
  nic: Counters,
  nicDrops: readonly string[],
  iface: NetCounters,
  tcp: TcpStack,
  localAddress: number,
  driver?: Counters,
  driverDrops: readonly string[] = [],
): NetworkStats {
  const nicOut: Record<string, number> = {};
  const stack: Record<string, number> = {};
  const drops: Record<string, number> = {};
  split(nic, nicDrops, 'nic', nicOut, '', drops);
  if (driver !== undefined) split(driver, driverDrops, 'driver', nicOut, 'driver.', drops);
  split(iface, DROP_COUNTERS, 'iface', stack, 'iface.', drops);
  split(tcp.stats, TCP_DROP_COUNTERS, 'tcp', stack, 'tcp.', drops);
  return { nic: nicOut, stack, drops, connections: connectionsOf(tcp, ipv4ToString(localAddress)) };
}
