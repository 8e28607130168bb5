import { EbbRef } from '@ebbrt/core-translation';
import { VIRTIO_NET_F, VIRTIO_STATUS, featureBit } from '@ebbrt/hw-x86sim';
import { IOBuf, SystemEbbIds, UsageError, type EventManager, type MemoryAllocator, type Timer, type UdpSocket } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { emitIpv4, emitUdp, ipv4, totalDrops } from '../src/index.js';
import { netFixture, payloadFor, seeds, liveIOBufs, type NetFixture } from '@ebbrt/testkit/net';

const memRef = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
const LAT = 10_000;
/** virtio header + Ethernet + IPv4 + UDP. */
const HEADERS = 12 + 14 + 20 + 8;

async function runOk(f: NetFixture, untilNs = 1e9): Promise<void> {
  const r = await f.sim.run({ untilNs: f.sim.now() + untilNs });
  expect(['quiescent', 'until']).toContain(r.reason);
}

/** A datagram payload as an IOBuf: physical memory, JS heap, or a 2-element mixed chain. */
function makePayload(seq: number, len: number): IOBuf {
  const bytes = payloadFor(seq, len);
  const kind = seq % 3;
  if (kind === 0 || len < 2) return IOBuf.copyOf(bytes);
  const cut = (len >> 1) | 1; // odd split: checksum across an odd element boundary
  const first = memRef.deref().allocIOBuf(kind === 1 ? len : cut);
  first.bytes.set(bytes.subarray(0, kind === 1 ? len : cut), first.offset);
  if (kind === 1) return first;
  first.appendChain(IOBuf.copyOf(bytes.subarray(cut)));
  return first;
}

describe('driver bring-up', () => {
  it('negotiates features, sets up one queue pair per core in allocator memory, then DRIVER_OK', async () => {
    const f = netFixture({ seed: 3, cores: 2 });
    const a = f.nodes[0]!;
    const dev = a.nm.driver.device;
    expect(a.nm.ready).toBe(false); // queue setup runs on each core, as events
    await runOk(f, 1e6);
    expect(a.nm.ready).toBe(true);
    expect(dev.status & VIRTIO_STATUS.DRIVER_OK).toBe(VIRTIO_STATUS.DRIVER_OK);
    for (const bit of [VIRTIO_NET_F.MAC, VIRTIO_NET_F.STATUS, VIRTIO_NET_F.MQ, VIRTIO_NET_F.VERSION_1]) {
      expect(dev.negotiatedFeatures & featureBit(bit)).not.toBe(0n);
    }
    for (let q = 0; q < 4; q++) {
      const st = dev.queue(q)!;
      expect(st.core).toBe(q >> 1);
      expect(st.descAddr).toBeGreaterThanOrEqual(1 << 20); // above the allocator's reserve
      expect(st.usedAddr).toBeLessThan(a.machine.memory.size);
    }
    // Every RX descriptor points at a distinct 2048-byte buffer inside machine memory.
    const qp = a.nm.driver.on(1).queue;
    const seen = new Set<number>();
    for (let i = 0; i < qp.rx.size; i++) {
      const addr = Number(a.machine.memory.readU64(qp.rx.desc + 16 * i));
      expect(a.machine.memory.readU32(qp.rx.desc + 16 * i + 8)).toBe(2048);
      expect(addr + 2048).toBeLessThanOrEqual(a.machine.memory.size);
      seen.add(addr);
    }
    expect(seen.size).toBe(qp.rx.size);
  });

  it('exposes interfaces(), UDP port rules and TCP argument checks', async () => {
    const f = netFixture({ seed: 1, options: { mac: '02:00:00:00:00:aa' } });
    const out = f.run(0, 0, () => {
      const nm = f.nodes[0]!.rep();
      const info = nm.interfaces();
      let tcp: unknown;
      const l = nm.tcpListen(80, () => ({ receive() {} }));
      try {
        nm.tcpListen(80, () => ({ receive() {} }));
      } catch (e) {
        tcp = e;
      }
      l.close();
      expect(() => nm.tcpConnect('10.0.0.2', 0, { receive() {} })).toThrow(RangeError);
      const s = nm.udpBind(7, () => {});
      expect(() => nm.udpBind(7, () => {})).toThrow(UsageError);
      const e = nm.udpBind(0, () => {});
      expect(e.port).toBeGreaterThanOrEqual(49152);
      s.close();
      nm.udpBind(7, () => {}).close(); // port free again
      expect(() => s.sendTo('10.0.0.2', 7, IOBuf.copyOf('x'))).toThrow(UsageError);
      expect(() => e.sendTo('10.0.0.300', 7, IOBuf.copyOf('x'))).toThrow(RangeError);
      return { info, tcp };
    });
    await runOk(f, 1e6);
    if (out.error) throw out.error;
    expect(out.value!.info).toEqual([{ name: 'eth0', mac: '02:00:00:00:00:aa', address: '10.0.0.1', netmask: '255.255.255.0', gateway: undefined }]);
    expect(out.value!.tcp).toBeInstanceOf(UsageError);
    expect((out.value!.tcp as Error).message).toMatch(/already in use/);
  });
});

describe('ARP and ICMP echo', () => {
  it('resolves by ARP, then echo RTT is exactly 2 × the two-hop one-way latency', async () => {
    const f = netFixture({ seed: 1, link: { latencyNs: LAT } });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    const out = f.run(0, 1, () => a.rep().ping('10.0.0.2', { count: 5, payloadSize: 100 }));
    await runOk(f);
    if (out.error) throw out.error;
    const rtts = out.value!;
    expect(rtts).toHaveLength(5);
    // NIC → switch → NIC is two links each way: RTT = 4 × link latency (no bandwidth limit).
    expect(rtts[0]).toBe(8 * LAT); // + one ARP round trip
    for (const r of rtts.slice(1)) expect(r).toBe(4 * LAT);
    const ca = a.nm.iface.counters;
    const cb = b.nm.iface.counters;
    expect(ca.arpRequestsSent).toBe(1);
    expect(ca.arpRepliesReceived).toBe(1);
    expect(cb.arpRequestsReceived).toBe(1);
    expect(cb.icmpEchoRequests).toBe(5);
    expect(cb.icmpEchoRepliesSent).toBe(5);
    expect(ca.icmpEchoRepliesReceived).toBe(5);
    expect(a.nm.iface.arpEntries().map((e) => e.address)).toEqual(['10.0.0.2']);
    expect(b.nm.iface.arpEntries().map((e) => e.address)).toEqual(['10.0.0.1']); // learned from the request
    expect(totalDrops(ca) + totalDrops(cb)).toBe(0);
    // Low load: interrupts only, never polling.
    for (const n of [a, b]) for (const d of n.nm.driver.cores) expect(d!.queue.stats.toPolling).toBe(0);
  });

  it('retries ARP a bounded number of times, then drops the queued packets and counts them', async () => {
    const f = netFixture({ seed: 2, options: { arpRetries: 2, arpRetryUs: 500 } });
    const a = f.nodes[0]!;
    const out = f.run(0, 0, () => a.rep().ping('10.0.0.99', { count: 1, timeoutUs: 10_000 }));
    await runOk(f);
    expect(out.done).toBe(true);
    expect(out.value).toEqual([]);
    const c = a.nm.iface.counters;
    expect(c.arpRequestsSent).toBe(3);
    expect(c.arpRetries).toBe(2);
    expect(c.arpFailed).toBe(1);
  });

  it('expires ARP entries and resolves again', async () => {
    const f = netFixture({ seed: 4, options: { arpExpiryUs: 1000 } });
    const a = f.nodes[0]!;
    const out = f.run(0, 0, async () => {
      const first = await a.rep().ping('10.0.0.2', { count: 2 });
      await new EbbRef<Timer>(SystemEbbIds.Timer).deref().sleep(2000);
      const second = await a.rep().ping('10.0.0.2', { count: 1 });
      return [...first, ...second];
    });
    await runOk(f);
    if (out.error) throw out.error;
    expect(out.value).toEqual([8 * LAT, 4 * LAT, 8 * LAT]);
    expect(a.nm.iface.counters.arpRequestsSent).toBe(2);
  });
});

interface EchoResult {
  sent: number;
  received: Map<number, number>;
  wrong: number;
}

/** Node 1 echoes UDP port 7; node 0 sends `n` datagrams of varied sizes and checks the echoes. */
async function udpEcho(f: NetFixture, n: number): Promise<EchoResult> {
  const [a, b] = [f.nodes[0]!, f.nodes[1]!];
  const res: EchoResult = { sent: 0, received: new Map(), wrong: 0 };
  const lenOf = (seq: number) => 4 + ((seq * 97) % 1469);
  f.run(1, 0, () => {
    let sock: UdpSocket | undefined = undefined;
    sock = b.rep().udpBind(7, (from, data) => sock!.sendTo(from.address, from.port, data)); // zero-copy echo
  });
  await runOk(f, 1e6);
  // Resolve ARP first (a queue of at most arpQueueLimit packets waits for an unresolved address).
  f.run(0, 1, () => a.rep().ping('10.0.0.2', { count: 1 }));
  await runOk(f);
  const out = f.run(0, 1, () => {
    a.rep().udpBind(5000, (from, data) => {
      const got = data.toUint8Array();
      data.releaseChain();
      const seq = got.length >= 4 ? new DataView(got.buffer, got.byteOffset).getUint32(0) : -1;
      const want = seq >= 0 && seq < n ? payloadFor(seq, lenOf(seq)) : undefined;
      if (from.address !== '10.0.0.2' || from.port !== 7 || want === undefined || Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) {
        res.wrong++;
        return;
      }
      res.received.set(seq, (res.received.get(seq) ?? 0) + 1);
    });
    // Send from port 5000 (the receiving socket's port) through the interface.
    for (let seq = 0; seq < n; seq++) {
      a.nm.iface.udpSend(5000, '10.0.0.2', 7, makePayload(seq, lenOf(seq)));
      res.sent++;
    }
  });
  await runOk(f);
  if (out.error) throw out.error;
  return res;
}

describe('UDP', () => {
  it('echoes datagrams byte-exact on clean links', async () => {
    const f = netFixture({ seed: 7 });
    const r = await udpEcho(f, 100);
    expect(r.wrong).toBe(0);
    expect(r.received.size).toBe(100);
    for (const c of r.received.values()) expect(c).toBe(1);
    expect(f.nodes[1]!.nm.iface.counters.udpDelivered).toBe(100);
    // B echoed the RX buffer views themselves: no TX copy on B.
    for (const d of f.nodes[1]!.nm.driver.cores) expect(d!.queue.stats.txCopiedElements).toBe(0);
    // No leak: after quiescence the only live IOBufs are the posted RX buffers (2 cores × 256).
    for (const node of f.nodes) {
      expect(liveIOBufs(node.node).length).toBe(2 * 256);
    }
  });

  it('under loss, duplication, reordering and corruption: never delivers a wrong byte (10 seeds)', async () => {
    let corrupted = 0;
    let caught = 0;
    let delivered = 0;
    for (const seed of seeds(10)) {
      const f = netFixture({ seed, link: { loss: 0.05, duplicate: 0.05, reorder: 0.1, reorderDelayNs: 30_000, corrupt: 0.1 } });
      const n = 60;
      const r = await udpEcho(f, n);
      expect(r.wrong, `seed ${seed}`).toBe(0);
      expect(r.received.size, `seed ${seed}`).toBeGreaterThan(n * 0.3);
      delivered += r.received.size;
      for (const node of f.nodes) {
        const c = node.nm.iface.counters;
        caught += c.udpBadChecksum + c.ipBadChecksum + c.ethNotForUs + c.ethMalformed + c.ethUnknownType + c.arpMalformed + c.icmpBadChecksum + c.arpIgnored + c.ipMalformed + c.udpMalformed + c.ipNotForUs + c.udpNoSocket;
        expect(c.internalErrors).toBe(0);
        expect(c.handlerErrors).toBe(0);
        corrupted += node.link.totals().corrupted;
      }
    }
    expect(corrupted).toBeGreaterThan(10);
    expect(caught).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThan(0);
  }, 20_000);

  it('hands the payload up zero-copy: a view of the RX buffer the driver posted', async () => {
    const f = netFixture({ seed: 5 });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    await runOk(f, 1e6);
    // Every buffer posted on B's RX rings, read from the descriptor tables in guest memory.
    const posted = new Set<number>();
    for (const d of b.nm.driver.cores) {
      const q = d!.queue;
      for (let i = 0; i < q.rx.size; i++) posted.add(Number(b.machine.memory.readU64(q.rx.desc + 16 * i)));
    }
    const checks: Array<{ phys: number; expected: number; inPosted: boolean; sameMemory: boolean; bytesOk: boolean }> = [];
    f.run(1, 0, () =>
      b.rep().udpBind(9, (_from, data) => {
        const q = b.nm.driver.cores.find((d) => d!.queue.lastRxBufferAddr >= 0 && data.physAddr() - HEADERS === d!.queue.lastRxBufferAddr)?.queue;
        const phys = data.physAddr();
        const mem = b.machine.memory;
        checks.push({
          phys,
          expected: (q?.lastRxBufferAddr ?? -1) + HEADERS,
          inPosted: posted.has(phys - HEADERS),
          sameMemory: data.bytes.buffer === mem.bytes.buffer,
          bytesOk: Buffer.compare(Buffer.from(mem.view(phys, data.length)), Buffer.from(payloadFor(1, 300))) === 0,
        });
        data.release();
      }),
    );
    f.run(0, 0, () => {
      const s = a.rep().udpBind(4000, () => {});
      for (let i = 0; i < 3; i++) s.sendTo('10.0.0.2', 9, IOBuf.copyOf(payloadFor(1, 300)));
    });
    await runOk(f);
    expect(checks).toHaveLength(3);
    for (const c of checks) {
      expect(c.phys).toBeGreaterThan(0);
      expect(c.phys).toBeLessThan(b.machine.memory.size);
      expect(c.phys).toBe(c.expected);
      expect(c.inPosted).toBe(true);
      expect(c.sameMemory).toBe(true);
      expect(c.bytesOk).toBe(true);
    }
  });
});

describe('interrupts and polling', () => {
  it('switches to polling under a 1000-datagram burst and back to interrupts after, losing nothing', async () => {
    const f = netFixture({ seed: 11, link: { latencyNs: LAT, bandwidthBps: 1e9 }, options: { rxRingSize: 256 } });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    const got = new Set<number>();
    let wrong = 0;
    f.run(1, 0, () =>
      b.rep().udpBind(9, (_from, data) => {
        const bytes = data.toUint8Array();
        const seq = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
        if (bytes.length !== 64 || Buffer.compare(Buffer.from(bytes), Buffer.from(payloadFor(seq, 64))) !== 0) wrong++;
        got.add(seq);
        data.release();
      }),
    );
    // Warm ARP with one ping so the burst is not held in the ARP queue.
    const warm = f.run(0, 0, () => a.rep().ping('10.0.0.2'));
    await runOk(f);
    expect(warm.value).toHaveLength(1);
    f.run(0, 0, () => {
      const s = a.rep().udpBind(4000, () => {});
      for (let seq = 0; seq < 1000; seq++) {
        const buf = memRef.deref().allocIOBuf(64);
        buf.bytes.set(payloadFor(seq, 64), buf.offset);
        s.sendTo('10.0.0.2', 9, buf);
      }
    });
    await runOk(f);
    expect(wrong).toBe(0);
    expect(got.size).toBe(1000);
    expect(b.nm.driver.device.stats.rxDroppedNoBuffer).toBe(0);
    const stats = b.nm.driver.cores.map((d) => d!.queue.stats);
    const rxCore = stats.find((s) => s.rxFrames >= 1000)!;
    if (process.env.NM_DEBUG) console.log(stats, b.nm.driver.device.stats);
    expect(rxCore.interrupts).toBeGreaterThan(0);
    expect(rxCore.toPolling).toBeGreaterThanOrEqual(1);
    expect(rxCore.pollsWithWork).toBeGreaterThan(0);
    expect(rxCore.toInterrupts).toBe(rxCore.toPolling); // every polling phase ended
    for (const d of b.nm.driver.cores) expect(d!.mode).toBe('interrupt');
    expect(b.nm.driver.device.stats.interruptsSuppressed).toBeGreaterThan(0);
    // The sender backlogged (the TX ring holds 128 two-descriptor frames) and drained it all.
    const txq = a.nm.driver.on(0).queue;
    expect(txq.stats.txBacklogged).toBeGreaterThan(0);
    expect(txq.backlogLength).toBe(0);
    expect(txq.stats.txDroppedBacklogFull).toBe(0);
    // After the burst, low-load traffic is interrupt-driven again and still works.
    const after = f.run(0, 0, () => a.rep().ping('10.0.0.2', { count: 2 }));
    await runOk(f);
    const ser = Math.ceil(((14 + 20 + 8 + 56) * 8e9) / 1e9); // serialization of a 98-byte frame per link
    expect(after.value).toEqual([4 * (LAT + ser), 4 * (LAT + ser)]);
  });
});

describe('leaving polling re-checks the used ring', () => {
  it('finds a frame that arrived while interrupts were suppressed, instead of losing it', async () => {
    const f = netFixture({ seed: 13 });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    const warm = f.run(0, 0, () => a.rep().ping('10.0.0.2'));
    await runOk(f);
    expect(warm.value).toHaveLength(1);
    // White-box: put B's core 0 in polling mode but take its idle callback away, so a frame that
    // arrives now sits on the used ring with no interrupt and nobody polling.
    type Internals = { enterPolling(): void; idle: { stop(): void } | undefined; poll: () => void };
    const d = b.nm.driver.on(0);
    const internals = d as unknown as Internals;
    f.run(1, 0, () => {
      internals.enterPolling();
      internals.idle!.stop();
      internals.idle = undefined;
    });
    await runOk(f, 1000);
    const suppressed = b.nm.driver.device.stats.interruptsSuppressed;
    const ping = f.run(0, 0, () => a.rep().ping('10.0.0.2', { timeoutUs: 10_000 })); // ICMP → B's queue 0
    await f.sim.run({ untilNs: f.sim.now() + 300_000 });
    expect(b.nm.driver.device.stats.interruptsSuppressed).toBeGreaterThan(suppressed);
    expect(ping.done).toBe(false);
    // The poll timer tried to leave polling: re-enabled interrupts, re-checked, found the frame.
    expect(d.queue.stats.recheckFoundWork).toBeGreaterThan(0);
    expect(d.mode).toBe('polling');
    f.run(1, 0, () => {
      internals.idle = new EbbRef<EventManager>(SystemEbbIds.EventManager).deref().setIdleCallback(internals.poll);
    });
    await runOk(f);
    expect(ping.value).toHaveLength(1);
    expect(d.mode).toBe('interrupt');
    expect(d.queue.stats.toInterrupts).toBe(1);
  });
});

describe('IPv4 routing and fragments', () => {
  it('sends off-subnet traffic to the gateway, counts noRoute without one', async () => {
    const f = netFixture({ seed: 6, options: { gateway: '10.0.0.2' } });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    f.run(0, 0, () => a.rep().udpBind(1234, () => {}).sendTo('192.168.7.7', 53, IOBuf.copyOf('query')));
    await runOk(f);
    expect(a.nm.iface.arpEntries().map((e) => e.address)).toEqual(['10.0.0.2']); // resolved the gateway
    expect(b.nm.iface.counters.ipNotForUs).toBe(1); // B is no router: it drops what is not its own
    const g = netFixture({ seed: 6 });
    g.run(0, 0, () => g.nodes[0]!.rep().udpBind(1234, () => {}).sendTo('192.168.7.7', 53, IOBuf.copyOf('query')));
    await runOk(g);
    expect(g.nodes[0]!.nm.iface.counters.noRoute).toBe(1);
  });

  it('reassembles a fragmented UDP datagram with the wire layer reassembler', async () => {
    const f = netFixture({ seed: 8 });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    await runOk(f, 1e6);
    let got: Uint8Array | undefined;
    f.run(1, 0, () =>
      b.rep().udpBind(9, (_from, data) => {
        got = data.toUint8Array();
        data.releaseChain();
      }),
    );
    await runOk(f, 1e5); // bind before the frames arrive (posted hardware events run before core slices)
    const payload = payloadFor(3, 1000);
    const dgram = new Uint8Array(8 + payload.length);
    dgram.set(payload, 8);
    const src = ipv4('10.0.0.1');
    const dst = ipv4('10.0.0.2');
    emitUdp({ srcPort: 777, dstPort: 9, payloadLength: payload.length }, dgram, 0, src, dst);
    const frag = (off: number, end: number, more: boolean): Uint8Array => {
      const fr = new Uint8Array(14 + 20 + (end - off));
      fr.set(b.nm.driver.device.mac, 0);
      fr.set(a.nm.driver.device.mac, 6);
      fr[12] = 0x08;
      emitIpv4(
        { src, dst, protocol: 17, ttl: 64, payloadLength: end - off, identification: 77, dontFragment: false, moreFragments: more, fragmentOffset: off, dscp: 0, ecn: 0, options: new Uint8Array(0) },
        fr,
        14,
      );
      fr.set(dgram.subarray(off, end), 34);
      return fr;
    };
    const dev = b.nm.driver.device;
    const second = frag(512, dgram.length, false);
    const first = frag(0, 512, true);
    f.sim.post(() => dev.receive(second)); // out of order
    f.sim.post(() => dev.receive(first));
    await runOk(f);
    const c = b.nm.iface.counters;
    expect(c.ipFragments).toBe(2);
    expect(c.ipReassembled).toBe(1);
    expect(got).toEqual(payload);
  });

  it('counts a throwing socket handler and keeps delivering', async () => {
    const f = netFixture({ seed: 10 });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    let calls = 0;
    f.run(1, 0, () =>
      b.rep().udpBind(9, (_from, data) => {
        data.release();
        calls++;
        throw new Error('handler bug');
      }),
    );
    f.run(0, 0, () => {
      const s = a.rep().udpBind(4000, () => {});
      for (let i = 0; i < 3; i++) s.sendTo('10.0.0.2', 9, IOBuf.copyOf(`m${i}`));
    });
    await runOk(f);
    expect(calls).toBe(3);
    expect(b.nm.iface.counters.handlerErrors).toBe(3);
    expect(b.nm.iface.counters.internalErrors).toBe(0);
  });
});

describe('robustness', () => {
  it('counts and drops garbage frames injected into the NIC, and keeps working', async () => {
    const f = netFixture({ seed: 9 });
    const [a, b] = [f.nodes[0]!, f.nodes[1]!];
    const first = f.run(0, 0, () => a.rep().ping('10.0.0.2', { count: 1 }));
    await runOk(f);
    expect(first.value).toHaveLength(1);
    const before = totalDrops(b.nm.iface.counters);
    const rxBefore = b.nm.iface.counters.rxFrames;
    const dev = b.nm.driver.device;
    let x = 12345;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const N = 200; // fewer than the RX ring's buffers: all are posted before the core runs
    for (let i = 0; i < N; i++) {
      const len = 14 + (rnd() * 7) % 1500;
      const fr = new Uint8Array(len);
      for (let k = 0; k < len; k++) fr[k] = rnd();
      if (i % 3 !== 0) fr.set(dev.mac, 0); // addressed to B, so it reaches the stack's parsers
      const types = [0x0800, 0x0806, 0x86dd, (rnd() << 8) | rnd()];
      const t = types[i % 4]!;
      fr[12] = t >> 8;
      fr[13] = t & 0xff;
      if (t === 0x0800 && i % 8 === 0) fr[14] = 0x45; // looks like IPv4: fails on checksum or length
      f.sim.post(() => dev.receive(fr));
    }
    await runOk(f);
    const c = b.nm.iface.counters;
    expect(dev.stats.rxDroppedNoBuffer).toBe(0);
    expect(c.rxFrames - rxBefore).toBe(N);
    expect(totalDrops(c) - before).toBe(N); // every garbage frame dropped under one reason
    expect(c.internalErrors).toBe(0);
    expect(c.ethNotForUs).toBeGreaterThan(0);
    expect(c.ipBadChecksum + c.ipMalformed).toBeGreaterThan(0);
    expect(c.arpMalformed).toBeGreaterThan(0);
    expect(c.ethUnknownType).toBeGreaterThan(0);
    const again = f.run(0, 0, () => a.rep().ping('10.0.0.2', { count: 3 }));
    await runOk(f);
    expect(again.value).toEqual([4 * LAT, 4 * LAT, 4 * LAT]);
  });

  it('is deterministic: same seed, same counters and final time', async () => {
    const once = async () => {
      const f = netFixture({ seed: 21, link: { loss: 0.05, corrupt: 0.05, duplicate: 0.05 } });
      const r = await udpEcho(f, 40);
      return JSON.stringify([f.sim.now(), [...r.received], f.nodes.map((n) => n.nm.iface.counters)]);
    };
    expect(await once()).toBe(await once());
  });
});
