import fc from 'fast-check';
import type { ArpRepr, DhcpRepr, EthernetRepr, Icmpv4Repr, Ipv4Repr, TcpOptions, TcpRepr, UdpRepr } from '../src/index.js';
import { mac48, u16, u32, u8 } from './helpers.js';

export const ethernetRepr: fc.Arbitrary<EthernetRepr> = fc.record({
  dst: mac48,
  src: mac48,
  ethertype: fc.integer({ min: 0x0600, max: 0xffff }),
});

export const arpRepr: fc.Arbitrary<ArpRepr> = fc.record({
  operation: fc.constantFrom(1 as const, 2 as const),
  senderMac: mac48,
  senderIp: u32,
  targetMac: mac48,
  targetIp: u32,
});

export const ipv4Repr: fc.Arbitrary<Ipv4Repr> = fc
  .record({
    src: u32,
    dst: u32,
    protocol: u8,
    ttl: u8,
    identification: u16,
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8),
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    options: fc.integer({ min: 0, max: 10 }).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 })),
    payloadLength: fc.integer({ min: 0, max: 200 }),
  })
  .map((r) => r as Ipv4Repr);

export const tcpOptions: fc.Arbitrary<TcpOptions> = fc
  .record({
    mss: fc.option(u16, { nil: null }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: null }),
    sackPermitted: fc.boolean(),
    ts: fc.option(fc.tuple(u32, u32), { nil: null }),
    blocks: fc.array(fc.tuple(u32, u32), { maxLength: 4 }),
  })
  .map(({ mss, windowScale, sackPermitted, ts, blocks }) => {
    const o: TcpOptions = {
      mss,
      windowScale,
      sackPermitted,
      hasTimestamp: ts !== null,
      tsVal: ts ? ts[0] : 0,
      tsEcr: ts ? ts[1] : 0,
      sackBlocks: blocks.flat(),
    };
    return o;
  })
  .filter((o) => {
    // Keep within the 40-byte option space, as any sender must.
    let n = (o.mss !== null ? 4 : 0) + (o.hasTimestamp ? 12 : o.sackPermitted ? 4 : 0) + (o.windowScale !== null ? 4 : 0);
    if (o.sackBlocks.length) n += 4 + o.sackBlocks.length * 4;
    return n <= 40;
  });

export const tcpRepr: fc.Arbitrary<TcpRepr> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  flags: u8,
  window: u16,
  urgent: u16,
  options: tcpOptions,
  payloadLength: fc.integer({ min: 0, max: 300 }),
});

export const udpRepr: fc.Arbitrary<UdpRepr> = fc.record({
  srcPort: u16,
  dstPort: u16,
  payloadLength: fc.integer({ min: 0, max: 300 }),
});

export const icmpRepr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
  fc.record({ kind: fc.constant('echo-request' as const), identifier: u16, sequence: u16, data: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({ kind: fc.constant('echo-reply' as const), identifier: u16, sequence: u16, data: fc.uint8Array({ maxLength: 100 }) }),
  fc
    .record({ code: fc.integer({ min: 0, max: 15 }), mtu: u16, data: fc.uint8Array({ maxLength: 68 }) })
    .map(({ code, mtu, data }) => ({ kind: 'dest-unreachable' as const, code, nextHopMtu: code === 4 ? mtu : 0, data })),
  fc.record({ kind: fc.constant('time-exceeded' as const), code: fc.integer({ min: 0, max: 1 }), data: fc.uint8Array({ maxLength: 68 }) }),
);

export const dhcpRepr: fc.Arbitrary<DhcpRepr> = fc.record({
  op: fc.constantFrom(1 as const, 2 as const),
  messageType: fc.integer({ min: 1, max: 8 }) as fc.Arbitrary<DhcpRepr['messageType']>,
  transactionId: u32,
  secs: u16,
  broadcast: fc.boolean(),
  clientIp: u32,
  yourIp: u32,
  serverIp: u32,
  relayIp: u32,
  clientMac: mac48,
  subnetMask: fc.option(u32, { nil: null }),
  routers: fc.array(u32, { maxLength: 4 }),
  dnsServers: fc.array(u32, { maxLength: 4 }),
  requestedIp: fc.option(u32, { nil: null }),
  leaseTime: fc.option(u32, { nil: null }),
  serverId: fc.option(u32, { nil: null }),
  parameterRequestList: fc.array(fc.integer({ min: 1, max: 254 }), { maxLength: 12 }),
  maxMessageSize: fc.option(fc.integer({ min: 576, max: 0xffff }), { nil: null }),
});
