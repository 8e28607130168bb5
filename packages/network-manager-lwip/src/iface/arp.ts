// ARP (RFC 826) for IPv4 over Ethernet: the neighbour cache (bounded, oldest evicted, entries
// expire), answering requests for our address, and resolving next hops with a bounded queue of
// waiting frames and a bounded number of retries.

import type { IOBuf, TimerHandle } from '@ebbrt/interfaces';
import { ARP_PACKET_LEN, ArpOperation, ArpPacket, emitArp } from '../wire/arp.js';
import { EtherType } from '../wire/ethernet.js';
import { ipv4ToString, type Ipv4Address } from '../wire/ipv4-address.js';
import { MAC_BROADCAST, isMacMulticast, type MacAddress } from '../wire/mac-address.js';
import type { NetCounters } from './counters.js';
import type { IfaceConfig, IfaceEnv } from './env.js';
import type { EthernetLayer } from './ethernet.js';

interface ArpEntry {
  mac: MacAddress;
  expiresNs: number;
}

interface ArpPending {
  queue: IOBuf[];
  tries: number;
  timer: TimerHandle | undefined;
}

export class ArpLayer {
  private readonly cache = new Map<Ipv4Address, ArpEntry>();
  private readonly pending = new Map<Ipv4Address, ArpPending>();
  private readonly view = new ArpPacket(new Uint8Array(0), 0, 0);

  constructor(
    private readonly config: IfaceConfig,
    private readonly counters: NetCounters,
    private readonly env: IfaceEnv,
    private readonly eth: EthernetLayer,
  ) {}

  input(bytes: Uint8Array, off: number, len: number): void {
    const c = this.counters;
    const a = this.view;
    if (a.wrap(bytes, off, len) !== null) {
      c.arpMalformed++;
      return;
    }
    const senderIp = a.senderIp;
    const senderMac = a.senderMac;
    const targetIp = a.targetIp;
    const op = a.operation;
    if (isMacMulticast(senderMac) || senderIp === 0 || senderIp === this.config.address) {
      c.arpIgnored++;
      return;
    }
    // RFC 826 merge: update an existing entry; add one when the packet is meant for us.
    const forUs = targetIp === this.config.address && targetIp !== 0; // unconfigured (DHCP): answer nothing
    if (forUs || this.cache.has(senderIp)) this.learn(senderIp, senderMac);
    if (op === ArpOperation.Request) {
      if (!forUs) {
        c.arpIgnored++;
        return;
      }
      c.arpRequestsReceived++;
      this.send(ArpOperation.Reply, senderMac, senderIp, senderMac);
      c.arpRepliesSent++;
    } else {
      if (forUs) c.arpRepliesReceived++;
      else c.arpIgnored++;
    }
  }

  private learn(ip: Ipv4Address, mac: MacAddress): void {
    const cache = this.cache;
    if (!cache.has(ip) && cache.size >= this.config.arpCacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.delete(ip); // re-insert: Map order = age
    cache.set(ip, { mac, expiresNs: this.env.nowNs() + this.config.arpExpiryUs * 1000 });
    const pending = this.pending.get(ip);
    if (pending !== undefined) {
      this.pending.delete(ip);
      pending.timer?.stop();
      for (const chain of pending.queue) {
        this.eth.setDestination(chain, mac);
        this.eth.send(chain);
      }
    }
  }

  /** Cached MAC of `ip`, or -1 (expired entries are removed). */
  lookup(ip: Ipv4Address): MacAddress {
    const e = this.cache.get(ip);
    if (e === undefined) return -1;
    if (e.expiresNs <= this.env.nowNs()) {
      this.cache.delete(ip);
      return -1;
    }
    return e.mac;
  }

  /** Snapshot of the cache, for tests and tools. */
  entries(): Array<{ address: string; mac: MacAddress; expiresNs: number }> {
    return [...this.cache].map(([ip, e]) => ({ address: ipv4ToString(ip), mac: e.mac, expiresNs: e.expiresNs }));
  }

  private send(op: ArpOperation, ethDst: MacAddress, targetIp: Ipv4Address, targetMac: MacAddress): void {
    const eth = this.eth;
    const buf = eth.allocFrame(eth.ipOffset + ARP_PACKET_LEN);
    if (buf === null) return;
    eth.setDestination(buf, ethDst);
    eth.writeHeader(buf, EtherType.Arp);
    const cfg = this.config;
    emitArp({ operation: op, senderMac: cfg.mac, senderIp: cfg.address, targetMac, targetIp }, buf.bytes, buf.offset + eth.ipOffset);
    eth.send(buf);
  }

  /** Sends `chain` (Ethernet source and type written) once `nextHop` answers; ownership passes. */
  resolve(nextHop: Ipv4Address, chain: IOBuf): void {
    let p = this.pending.get(nextHop);
    if (p === undefined) {
      p = { queue: [], tries: 0, timer: undefined };
      this.pending.set(nextHop, p);
      this.request(nextHop, p);
    }
    if (p.queue.length >= this.config.arpQueueLimit) {
      this.counters.arpQueueFull++;
      chain.releaseChain();
      return;
    }
    p.queue.push(chain);
  }

  private request(ip: Ipv4Address, p: ArpPending): void {
    p.tries++;
    this.counters.arpRequestsSent++;
    this.send(ArpOperation.Request, MAC_BROADCAST, ip, 0);
    p.timer = this.env.startTimer(() => {
      if (this.pending.get(ip) !== p) return;
      if (p.tries <= this.config.arpRetries) {
        this.counters.arpRetries++;
        this.request(ip, p);
        return;
      }
      this.pending.delete(ip);
      this.counters.arpFailed += p.queue.length;
      for (const chain of p.queue) chain.releaseChain();
    }, this.config.arpRetryUs);
  }
}
