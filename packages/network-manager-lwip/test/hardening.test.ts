// Issue 11 items 1 and 4 in simulation: frames an attacker crafts are injected into node B's NIC
// (as if they came down its link), and what B sends back is captured on B's link.
import { describe, expect, it } from 'vitest';
import {
  emitIcmpv4,
  emitIpv4,
  emitTcp,
  emitUdp,
  emptyTcpOptions,
  ipv4,
  Icmpv4Packet,
  Ipv4Packet,
  TcpFlags,
  totalDrops,
} from '../src/index.js';
import { netFixture, type NetFixture } from '@ebbrt/testkit/net';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');

async function runFor(f: NetFixture, ns: number): Promise<void> {
  const r = await f.sim.run({ untilNs: f.sim.now() + ns });
  expect(['quiescent', 'until']).toContain(r.reason);
}

/** An Ethernet frame to B carrying one IPv4 packet (or fragment) with `payload`. */
function ipFrame(f: NetFixture, o: { src: number; protocol: number; payload: Uint8Array; id?: number; offset?: number; more?: boolean; dst?: number; ethDst?: 'b' | 'broadcast' }): Uint8Array {
  const b = f.nodes[1]!.nm.driver.device.mac;
  const fr = new Uint8Array(14 + 20 + o.payload.length);
  if (o.ethDst === 'broadcast') fr.fill(0xff, 0, 6);
  else fr.set(b, 0);
  fr.set([0x02, 0, 0, 0, 0, 0x99], 6);
  fr[12] = 0x08;
  emitIpv4(
    { src: o.src, dst: o.dst ?? B, protocol: o.protocol, ttl: 64, payloadLength: o.payload.length, identification: o.id ?? 1, dontFragment: false, moreFragments: o.more ?? false, fragmentOffset: o.offset ?? 0, dscp: 0, ecn: 0, options: new Uint8Array(0) },
    fr,
    14,
  );
  fr.set(o.payload, 34);
  return fr;
}

function echoRequest(id: number, dataLen: number): Uint8Array {
  const m = new Uint8Array(8 + dataLen);
  emitIcmpv4({ kind: 'echo-request', identifier: id, sequence: 1, data: new Uint8Array(dataLen).fill(0x5a) }, m, 0);
  return m;
}

function udpDatagram(src: number, dst: number, dstPort: number, len: number): Uint8Array {
  const d = new Uint8Array(8 + len);
  emitUdp({ srcPort: 40000, dstPort, payloadLength: len }, d, 0, src, dst);
  return d;
}

/** IPv4 packets B transmits, parsed (captured on B's link). */
function captureFromB(f: NetFixture): Ipv4Packet[] {
  const out: Ipv4Packet[] = [];
  const mac = f.nodes[1]!.nm.driver.device.mac;
  f.nodes[1]!.link.capture({
    record(_t, frame) {
      for (let i = 0; i < 6; i++) if (frame[6 + i] !== mac[i]) return;
      if (frame[12] !== 0x08 || frame[13] !== 0) return;
      const p = Ipv4Packet.parse(frame.slice(), 14, frame.length - 14);
      if (p.ok) out.push(p);
    },
  });
  return out;
}

function inject(f: NetFixture, frame: Uint8Array): void {
  const dev = f.nodes[1]!.nm.driver.device;
  f.sim.post(() => dev.receive(frame));
}

/** First fragments (MF set, offset 0) of datagrams that never complete, from `sources`. */
function incompleteTrains(f: NetFixture, sources: number[], perSource: number): void {
  let id = 1000;
  for (const src of sources) for (let k = 0; k < perSource; k++) inject(f, ipFrame(f, { src, protocol: 1, payload: new Uint8Array(1480).fill(k), id: id++, more: true }));
}

async function ping(f: NetFixture, payloadSize: number, timeoutUs = 500_000): Promise<number[]> {
  const out = f.run(0, 0, () => f.nodes[0]!.rep().ping('10.0.0.2', { payloadSize, timeoutUs }));
  await runFor(f, 2 * timeoutUs * 1000);
  expect(out.error).toBeUndefined();
  expect(out.done).toBe(true);
  return out.value!;
}

describe('IPv4 reassembly under incomplete fragment trains (issue 11 item 1)', () => {
  it('a 3000-byte ping goes out and comes back in fragments', async () => {
    const f = netFixture({ seed: 21 });
    await runFor(f, 1e6);
    const rtts = await ping(f, 3000);
    expect(rtts).toHaveLength(1);
    const [ca, cb] = [f.nodes[0]!.nm.iface.counters, f.nodes[1]!.nm.iface.counters];
    expect(ca.ipFragmentsSent).toBe(3); // 3008 bytes of ICMP in 1480 + 1480 + 48
    expect(cb.ipReassembled).toBe(1);
    expect(cb.ipFragmentsSent).toBe(3);
    expect(ca.ipReassembled).toBe(1);
    expect(f.nodes[1]!.nm.iface.reassemblyPending).toBe(0);
  });

  it('20 never-completing trains from 20 spoofed sources fill the table; the timer frees it and the 3000-byte ping is answered', async () => {
    const f = netFixture({ seed: 22 });
    await runFor(f, 1e6);
    const sources = Array.from({ length: 20 }, (_, i) => ipv4(`10.0.0.${100 + i}`));
    incompleteTrains(f, sources, 1);
    await runFor(f, 1e6);
    const iface = f.nodes[1]!.nm.iface;
    expect(iface.reassemblyPending).toBe(16); // the table's limit; 4 refused
    expect(iface.counters.ipFragmentsDropped).toBe(4);
    // The table is full of other sources' trains: this ping waits for them to time out...
    expect(await ping(f, 3000)).toHaveLength(0);
    // ...which the timer does at 30 s, with no traffic needed (before the fix: never, the ping
    // stayed unanswered for as long as the node ran).
    await runFor(f, 31e9);
    expect(iface.reassemblyPending).toBe(0);
    expect(iface.counters.ipReassemblyTimeouts).toBe(16);
    expect(await ping(f, 3000)).toHaveLength(1);
    expect(iface.counters.ipReassembled).toBe(1);
  });

  it('one source sending 40 never-completing trains keeps at most 4 in the table and cannot lock itself or others out', async () => {
    const f = netFixture({ seed: 23 });
    await runFor(f, 1e6);
    incompleteTrains(f, [A], 40); // from the pinging host's own address
    await runFor(f, 1e6);
    const iface = f.nodes[1]!.nm.iface;
    expect(iface.reassemblyPending).toBe(4);
    expect(iface.counters.ipReassemblyEvicted).toBe(36);
    expect(await ping(f, 3000)).toHaveLength(1); // answered at once, not after the timeout
    expect(iface.counters.ipReassemblyTimeouts).toBe(0);
  });
});

describe('sources a host must refuse (issue 11 item 4, RFC 1122 3.2.1.3)', () => {
  const cases: Array<[string, number, 'ipSourceBroadcast' | 'ipSourceMulticast' | 'ipSourceLoopback']> = [
    ['255.255.255.255', 0xffffffff, 'ipSourceBroadcast'],
    ['the subnet broadcast 10.0.0.255', ipv4('10.0.0.255'), 'ipSourceBroadcast'],
    ['multicast 224.0.0.1', ipv4('224.0.0.1'), 'ipSourceMulticast'],
    ['loopback 127.0.0.1', ipv4('127.0.0.1'), 'ipSourceLoopback'],
  ];
  it.each(cases)('a ping and a SYN from %s get no answer and are counted', async (_name, src, counter) => {
    const f = netFixture({ seed: 24 });
    await runFor(f, 1e6);
    f.run(1, 0, () => f.nodes[1]!.rep().tcpListen(80, () => ({ receive: (_c, d) => d.releaseChain() })));
    await runFor(f, 1e6);
    const sent = captureFromB(f);
    const b = f.nodes[1]!.nm;
    const before = totalDrops(b.iface.counters);
    inject(f, ipFrame(f, { src, protocol: 1, payload: echoRequest(7, 56) }));
    const syn = new Uint8Array(20);
    emitTcp({ srcPort: 5555, dstPort: 80, seq: 1, ack: 0, flags: TcpFlags.SYN, window: 65535, urgent: 0, options: emptyTcpOptions(), payloadLength: 0 }, syn, 0, src, B);
    inject(f, ipFrame(f, { src, protocol: 6, payload: syn }));
    inject(f, ipFrame(f, { src, protocol: 17, payload: udpDatagram(src, B, 9999, 4) }));
    await runFor(f, 1e8);
    expect(sent).toHaveLength(0); // before the fix: an echo reply and a SYN-ACK to that address
    expect(b.iface.counters[counter]).toBe(3);
    expect(totalDrops(b.iface.counters) - before).toBe(3);
    expect(b.iface.counters.icmpEchoRequests).toBe(0);
    expect(b.tcp.stats.segmentsIn).toBe(0);
    // The same ping from a unicast source is answered (the check is not over-broad).
    inject(f, ipFrame(f, { src: ipv4('10.0.0.77'), protocol: 1, payload: echoRequest(8, 56) }));
    await runFor(f, 1e8);
    expect(b.iface.counters.icmpEchoRequests).toBe(1);
  });
});

describe('echo requests to a broadcast address (smurf amplification)', () => {
  it('are ignored by default and counted, answered when icmpEchoIgnoreBroadcasts is false', async () => {
    for (const ignore of [true, false]) {
      const f = netFixture({ seed: 28, options: { icmpEchoIgnoreBroadcasts: ignore } });
      await runFor(f, 1e6);
      const sent = captureFromB(f);
      for (const dst of [0xffffffff, ipv4('10.0.0.255')]) inject(f, ipFrame(f, { src: A, dst, ethDst: 'broadcast', protocol: 1, payload: echoRequest(9, 56) }));
      await runFor(f, 1e8);
      const c = f.nodes[1]!.nm.iface.counters;
      expect(sent.length, `ignore=${ignore}`).toBe(ignore ? 0 : 2);
      expect(c.icmpEchoBroadcastIgnored).toBe(ignore ? 2 : 0);
    }
  });
});

describe('UDP to a closed port: ICMP port unreachable (issue 11 item 4)', () => {
  it('is sent to the sender, quoting the IPv4 header and the UDP ports', async () => {
    const f = netFixture({ seed: 25 });
    await runFor(f, 1e6);
    const sent = captureFromB(f);
    inject(f, ipFrame(f, { src: A, protocol: 17, payload: udpDatagram(A, B, 9999, 20) }));
    await runFor(f, 1e8);
    expect(sent).toHaveLength(1); // before the fix: nothing
    const p = sent[0]!;
    expect(p.dst).toBe(A);
    expect(p.protocol).toBe(1);
    const m = Icmpv4Packet.parse(p.bytes, p.payloadOffset, p.payloadLength);
    if (!m.ok) throw new Error(m.reason);
    expect([m.type, m.code]).toEqual([3, 3]);
    // The quote: the original IPv4 header, then the UDP header (ports) of the datagram.
    const q = new DataView(p.bytes.buffer, p.bytes.byteOffset + p.payloadOffset + 8, 28);
    expect([q.getUint8(0), q.getUint16(2), q.getUint8(9), q.getUint32(12), q.getUint32(16)]).toEqual([0x45, 48, 17, A, B]);
    expect([q.getUint16(20), q.getUint16(22), q.getUint16(24)]).toEqual([40000, 9999, 28]);
    expect(m.length).toBe(8 + 28);
    expect(f.nodes[1]!.nm.iface.counters.icmpUnreachableSent).toBe(1);
  });

  it('is rate-limited per peer by default (Linux icmp_ratelimit: 1/s, burst 6); peers are independent', async () => {
    const f = netFixture({ seed: 27 });
    await runFor(f, 1e6);
    const c = f.nodes[1]!.nm.iface.counters;
    const C = ipv4('10.0.0.50');
    const burst = (src: number, base: number): void => {
      for (let i = 0; i < 20; i++) inject(f, ipFrame(f, { src, protocol: 17, payload: udpDatagram(src, B, base + i, 4) }));
    };
    burst(A, 30000);
    await runFor(f, 1e6);
    expect(c.icmpUnreachableSent).toBe(6);
    burst(C, 31000); // another peer has its own burst (its replies then wait for ARP, no matter)
    await runFor(f, 1e6);
    expect(c.icmpUnreachableSent).toBe(12);
    expect(c.icmpErrorsRateLimited).toBe(28);
    await runFor(f, 1e9); // one more second: one more for A
    burst(A, 32000);
    await runFor(f, 1e6);
    expect(c.icmpUnreachableSent).toBe(13);
  });

  it('is rate-limited by a token bucket (burst, then the rate), and never about broadcasts or ICMP', async () => {
    // The per-peer limit opened up: this is the global bucket.
    const f = netFixture({ seed: 26, options: { icmpErrorBurst: 10, icmpErrorRatePerSec: 100, icmpErrorPeerIntervalUs: 1, icmpErrorPeerBurst: 1_000_000 } });
    await runFor(f, 1e6);
    const sent = captureFromB(f);
    const c = f.nodes[1]!.nm.iface.counters;
    for (let i = 0; i < 200; i++) inject(f, ipFrame(f, { src: A, protocol: 17, payload: udpDatagram(A, B, 10000 + i, 4) }));
    await runFor(f, 1e6); // all 200 arrive within ~1 ms: the burst of 10 (+ at most 1 refill)
    const burst = sent.length;
    expect(burst).toBeGreaterThanOrEqual(10);
    expect(burst).toBeLessThanOrEqual(11);
    expect(c.icmpErrorsRateLimited).toBe(200 - burst);
    await runFor(f, 1e9); // a second refills the bucket (100/s, capped at 10)
    for (let i = 0; i < 50; i++) inject(f, ipFrame(f, { src: A, protocol: 17, payload: udpDatagram(A, B, 20000 + i, 4) }));
    await runFor(f, 1e6);
    expect(sent.length - burst).toBeGreaterThanOrEqual(10);
    expect(sent.length - burst).toBeLessThanOrEqual(11);
    await runFor(f, 1e9);
    const n = sent.length;
    // Broadcast destinations (limited, subnet, link-layer) and an ICMP error itself: no reply.
    inject(f, ipFrame(f, { src: A, dst: 0xffffffff, ethDst: 'broadcast', protocol: 17, payload: udpDatagram(A, 0xffffffff, 9999, 4) }));
    inject(f, ipFrame(f, { src: A, dst: ipv4('10.0.0.255'), ethDst: 'broadcast', protocol: 17, payload: udpDatagram(A, ipv4('10.0.0.255'), 9999, 4) }));
    inject(f, ipFrame(f, { src: A, ethDst: 'broadcast', protocol: 17, payload: udpDatagram(A, B, 9999, 4) }));
    const err = new Uint8Array(8 + 28);
    emitIcmpv4({ kind: 'dest-unreachable', code: 3, nextHopMtu: 0, data: new Uint8Array(28) }, err, 0);
    inject(f, ipFrame(f, { src: A, protocol: 1, payload: err }));
    await runFor(f, 1e8);
    expect(sent.length).toBe(n);
    expect(c.icmpErrorsSuppressed).toBe(3);
  });
});
