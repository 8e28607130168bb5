// The interface (eth0): one per node, shared by every core's rep. It only wires the layers
// together, smoltcp `iface` style, one file per protocol:
//   ethernet.ts (framing, demux, layout) → arp.ts (neighbours) / ipv4.ts (input, reassembly,
//   routing) → icmp.ts (echo) / udp.ts (sockets) / TCP (src/tcp/, through `tcpInput`/`tcpOutput`).
// Receive runs on the core whose queue got the frame; transmit goes out on the calling core's TX
// queue. Received bytes never throw out of here: every malformed or unwanted frame is counted
// under one reason in `counters` and dropped.
//
// Buffer ownership: `input` owns the frame it is given and either releases it or hands it on
// (a UDP payload view goes to the socket's handler, which then owns it). Output owns the chain.

import { cpu } from '@ebbrt/core-translation';
import type { IOBuf } from '@ebbrt/interfaces';
import type { Ipv4Address, MacAddress } from '../wire/index.js';
import { IpProtocol } from '../wire/ipv4.js';
import type { PhaseTrace } from '../phase-trace.js';
import { ArpLayer } from './arp.js';
import { newCounters, type NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv, L4Input, NetLink } from './env.js';
import { EthernetLayer } from './ethernet.js';
import { IcmpLayer } from './icmp.js';
import { Ipv4Layer } from './ipv4.js';
import { UdpLayer, type UdpReceive, type UdpSocketImpl } from './udp.js';

export type { IfaceConfig, IfaceEnv, NetLink, TransmitFn, L4Input } from './env.js';
export { parseAddress, UdpSocketImpl, type UdpReceive } from './udp.js';

export class NetInterface {
  readonly counters: NetCounters = newCounters();
  /** Where the L4 (TCP/UDP) header starts in a frame from `allocFrame` (after the link's headroom). */
  readonly l4Offset: number;
  /** Stack spans for a latency breakdown; set only when the simulation traces. */
  phases: PhaseTrace | undefined = undefined;
  private readonly eth: EthernetLayer;
  private readonly arp: ArpLayer;
  private readonly ip: Ipv4Layer;
  private readonly icmp: IcmpLayer;
  private readonly udp: UdpLayer;

  constructor(
    readonly config: IfaceConfig,
    env: IfaceEnv,
    link: NetLink,
  ) {
    const c = this.counters;
    this.eth = new EthernetLayer(config, c, env, link);
    this.arp = new ArpLayer(config, c, env, this.eth);
    this.ip = new Ipv4Layer(config, c, env, this.eth, this.arp);
    this.icmp = new IcmpLayer(config, c, env, this.eth, this.ip);
    this.udp = new UdpLayer(config, c, this.eth, this.ip, this.icmp);
    this.eth.arpInput = (bytes, off, len) => this.arp.input(bytes, off, len);
    this.eth.ipv4Input = (frame, off, len, linkBroadcast) => this.ip.input(frame, off, len, linkBroadcast);
    this.ip.icmpInput = this.icmp.input;
    this.ip.udpInput = this.udp.input;
    this.l4Offset = this.eth.l4Offset;
  }

  /**
   * TCP input hook (set by the TCP layer): takes ownership of `frame`, returns true when it kept
   * it. Without it, TCP counts as an unknown protocol.
   */
  get tcpInput(): L4Input | undefined {
    return this.ip.tcpInput;
  }
  set tcpInput(fn: L4Input | undefined) {
    this.ip.tcpInput = fn;
  }

  // ------------------------------------------------------------------ receive

  /** A received Ethernet frame (a view of the driver's buffer). Takes ownership; never throws. */
  input = (frame: IOBuf): void => {
    const phases = this.phases;
    if (phases === undefined) return this.receive(frame);
    const t0 = phases.now();
    this.receive(frame);
    phases.end('stack', NetInterface.currentCoreIndex(), t0);
  };

  private receive(frame: IOBuf): void {
    this.counters.rxFrames++;
    let handedOff = false;
    try {
      handedOff = this.eth.input(frame);
    } catch {
      this.counters.internalErrors++;
    }
    if (!handedOff && !frame.isReleased) frame.release();
  }

  // ------------------------------------------------------------------ transmit

  /** A physical buffer for a frame: `size` bytes from the link's headroom on; null (counted) if out of memory. */
  allocFrame(size: number): IOBuf | null {
    return this.eth.allocFrame(size);
  }

  /** Sends a TCP segment whose header starts at `l4Offset` of the head element (ownership taken). */
  tcpOutput(chain: IOBuf, dst: Ipv4Address, tcpLength: number): void {
    this.ip.output(chain, dst, IpProtocol.Tcp, tcpLength);
  }

  // ------------------------------------------------------------------ ARP

  /** Cached MAC of `ip`, or -1 (expired entries are removed). */
  arpLookup(ip: Ipv4Address): MacAddress {
    return this.arp.lookup(ip);
  }

  /** IPv4 datagrams under reassembly (for tests and tools). */
  get reassemblyPending(): number {
    return this.ip.reassemblyPending;
  }

  /** Snapshot of the ARP cache, for tests and tools. */
  arpEntries(): Array<{ address: string; mac: MacAddress; expiresNs: number }> {
    return this.arp.entries();
  }

  // ------------------------------------------------------------------ UDP

  udpBind(port: number, receive: UdpReceive): UdpSocketImpl {
    return this.udp.bind(port, receive);
  }

  udpUnbind(s: UdpSocketImpl): void {
    this.udp.unbind(s);
  }

  /** Sends `data` (ownership passes to the stack) as one datagram, without copying physical buffers. */
  udpSend(srcPort: number, address: string, dstPort: number, data: IOBuf): void {
    this.udp.send(srcPort, address, dstPort, data);
  }

  // ------------------------------------------------------------------ ICMP echo (ping)

  /** Sends one echo request; `done(rttNs)` runs when the matching reply arrives (on the receiving core). */
  sendEchoRequest(dst: Ipv4Address, identifier: number, sequence: number, payloadSize: number, done: (rttNs: number) => void): void {
    this.icmp.sendEchoRequest(dst, identifier, sequence, payloadSize, done);
  }

  /** Forgets a waiter (timed out). */
  cancelEcho(identifier: number, sequence: number): void {
    this.icmp.cancelEcho(identifier, sequence);
  }

  newEchoIdentifier(): number {
    return this.icmp.newEchoIdentifier();
  }

  /** Current core index (for callers that route by core). */
  static currentCoreIndex(): number {
    return cpu.current?.index ?? 0;
  }
}
