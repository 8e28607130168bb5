/** Interface-layer counters: every frame that is dropped is counted under exactly one reason. */
export type NetCounters = {
  rxFrames: number;
  txFrames: number;
  // Ethernet
  ethMalformed: number;
  ethNotForUs: number;
  ethUnknownType: number;
  // ARP
  arpMalformed: number;
  arpIgnored: number;
  arpRequestsReceived: number;
  arpRepliesReceived: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  arpRetries: number;
  /** Packets dropped because their next hop never answered ARP. */
  arpFailed: number;
  /** Packets dropped because too many were already waiting for one address. */
  arpQueueFull: number;
  // IPv4
  ipMalformed: number;
  ipBadChecksum: number;
  ipNotForUs: number;
  ipFragments: number;
  ipReassembled: number;
  ipFragmentsDropped: number;
  ipUnknownProtocol: number;
  /** Datagrams dropped because the source was the limited or the subnet's broadcast (RFC 1122 3.2.1.3). */
  ipSourceBroadcast: number;
  /** ... a multicast (224.0.0.0/4) source. */
  ipSourceMulticast: number;
  /** ... a loopback (127.0.0.0/8) source. */
  ipSourceLoopback: number;
  /** Datagrams (not frames) under reassembly discarded when their time was up. */
  ipReassemblyTimeouts: number;
  /** Datagrams (not frames) under reassembly evicted for a newer one from the same source. */
  ipReassemblyEvicted: number;
  /** Fragments sent (datagrams above the MTU). */
  ipFragmentsSent: number;
  /** Sends with no route (off-subnet destination and no gateway). */
  noRoute: number;
  // ICMP
  icmpMalformed: number;
  icmpBadChecksum: number;
  icmpEchoRequests: number;
  icmpEchoRepliesSent: number;
  icmpEchoRepliesReceived: number;
  icmpUnmatchedReplies: number;
  icmpIgnored: number;
  /** Echo requests to a broadcast address, ignored (`icmpEchoIgnoreBroadcasts`). */
  icmpEchoBroadcastIgnored: number;
  /** Destination-unreachable errors sent (UDP port unreachable). */
  icmpUnreachableSent: number;
  /** ICMP errors not sent because the global or the peer's token bucket was empty. */
  icmpErrorsRateLimited: number;
  /** ICMP errors not sent by RFC 1122 3.2.2 (about a broadcast, or to 0.0.0.0). */
  icmpErrorsSuppressed: number;
  // UDP
  udpMalformed: number;
  udpBadChecksum: number;
  udpNoSocket: number;
  udpDelivered: number;
  udpSent: number;
  /** A socket's receive handler threw (the error is counted, the stack carries on). */
  handlerErrors: number;
  /** A bug in the stack caught at the top of the receive path (the frame is dropped). */
  internalErrors: number;
  /** A buffer could not be allocated for a transmit or reply. */
  noMemory: number;
  /** Frames sent on a core whose queue pair is not set up yet (before the driver is ready). */
  txNotReady: number;
};

export function newCounters(): NetCounters {
  return {
    rxFrames: 0,
    txFrames: 0,
    ethMalformed: 0,
    ethNotForUs: 0,
    ethUnknownType: 0,
    arpMalformed: 0,
    arpIgnored: 0,
    arpRequestsReceived: 0,
    arpRepliesReceived: 0,
    arpRequestsSent: 0,
    arpRepliesSent: 0,
    arpRetries: 0,
    arpFailed: 0,
    arpQueueFull: 0,
    ipMalformed: 0,
    ipBadChecksum: 0,
    ipNotForUs: 0,
    ipFragments: 0,
    ipReassembled: 0,
    ipFragmentsDropped: 0,
    ipUnknownProtocol: 0,
    ipSourceBroadcast: 0,
    ipSourceMulticast: 0,
    ipSourceLoopback: 0,
    ipReassemblyTimeouts: 0,
    ipReassemblyEvicted: 0,
    ipFragmentsSent: 0,
    noRoute: 0,
    icmpMalformed: 0,
    icmpBadChecksum: 0,
    icmpEchoRequests: 0,
    icmpEchoRepliesSent: 0,
    icmpEchoRepliesReceived: 0,
    icmpUnmatchedReplies: 0,
    icmpIgnored: 0,
    icmpEchoBroadcastIgnored: 0,
    icmpUnreachableSent: 0,
    icmpErrorsRateLimited: 0,
    icmpErrorsSuppressed: 0,
    udpMalformed: 0,
    udpBadChecksum: 0,
    udpNoSocket: 0,
    udpDelivered: 0,
    udpSent: 0,
    handlerErrors: 0,
    internalErrors: 0,
    noMemory: 0,
    txNotReady: 0,
  };
}

/**
 * The frame-drop counters (everything but traffic and success counts): each names a reason.
 * Reassembly timeouts/evictions count datagrams whose fragments were accepted, and ICMP errors
 * not sent are about frames already counted (`udpNoSocket`), so neither is in here.
 */
export const DROP_COUNTERS: readonly (keyof NetCounters)[] = [
  'ethMalformed', 'ethNotForUs', 'ethUnknownType', 'arpMalformed', 'arpIgnored', 'arpFailed', 'arpQueueFull',
  'ipMalformed', 'ipBadChecksum', 'ipNotForUs', 'ipFragmentsDropped', 'ipUnknownProtocol', 'noRoute',
  'ipSourceBroadcast', 'ipSourceMulticast', 'ipSourceLoopback',
  'icmpMalformed', 'icmpBadChecksum', 'icmpUnmatchedReplies', 'icmpIgnored', 'icmpEchoBroadcastIgnored', 'udpMalformed', 'udpBadChecksum',
  'udpNoSocket', 'internalErrors', 'noMemory', 'txNotReady',
];

/** Total of every frame-drop counter ({@link DROP_COUNTERS}). */
export function totalDrops(c: NetCounters): number {
  let total = 0;
  for (const k of DROP_COUNTERS) total += c[k];
  return total;
}
