import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine } from '../machine.js';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame } from './frame.js';
import { NetworkFabric } from './link.js';
import {
  VIRTIO_NET_F,
  VIRTIO_NET_HDR_BYTES,
  VIRTIO_STATUS,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F,
  VIRTQ_USED_F_NO_NOTIFY,
  VirtioNetDevice,
  featureBit,
  rssHash,
  rssHashOf,
  virtqueueLayout,
  type VirtioNetFaults,
} from './index.js';

const QSIZE = 8;
const RX_VECTOR = 0x40;
const TX_VECTOR = 0x41;

/** A minimal driver written against the split-ring layout, operating on guest memory directly. */
class TestDriver {
  private bump = 0x1000;
  readonly q: Array<{ desc: number; avail: number; used: number; nextDesc: number; availIdx: number; lastUsed: number }> = [];
  constructor(
    readonly m: Machine,
    readonly dev: VirtioNetDevice,
  ) {}

  alloc(bytes: number, align = 16): number {
    this.bump = Math.ceil(this.bump / align) * align;
    const a = this.bump;
    this.bump += bytes;
    return a;
  }

  init(features = this.dev.offeredFeatures): bigint {
    const d = this.dev;
    d.setStatus(0);
    d.setStatus(VIRTIO_STATUS.ACKNOWLEDGE);
    d.setStatus(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER);
    const acc = d.negotiate(features);
    d.setStatus(d.status | VIRTIO_STATUS.FEATURES_OK);
    if ((d.status & VIRTIO_STATUS.FEATURES_OK) === 0) return acc;
    const lay = virtqueueLayout(QSIZE);
    for (let i = 0; i < d.queueCount; i++) {
      const desc = this.alloc(lay.descBytes, 16);
      const avail = this.alloc(lay.availBytes, 2);
      const used = this.alloc(lay.usedBytes, 4);
      this.q[i] = { desc, avail, used, nextDesc: 0, availIdx: 0, lastUsed: 0 };
      d.setupQueue(i, { size: QSIZE, descAddr: desc, availAddr: avail, usedAddr: used, msixVector: i & 1 ? TX_VECTOR : RX_VECTOR, core: (i >> 1) % this.m.cores.length });
    }
    d.setStatus(d.status | VIRTIO_STATUS.DRIVER_OK);
    return acc;
  }

  writeDesc(qi: number, idx: number, addr: number | bigint, len: number, flags: number, next = 0): void {
    const mem = this.m.memory;
    const a = this.q[qi].desc + 16 * idx;
    mem.writeU64(a, BigInt(addr));
    mem.writeU32(a + 8, len);
    mem.writeU16(a + 12, flags);
    mem.writeU16(a + 14, next);
  }

  /** Publish a chain head on the avail ring (ring entry, then idx). */
  publish(qi: number, head: number): void {
    const q = this.q[qi];
    const mem = this.m.memory;
    mem.writeU16(q.avail + 4 + 2 * (q.availIdx % QSIZE), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    mem.writeU16(q.avail + 2, q.availIdx);
  }

  /** Post one RX buffer (or a two-descriptor chain when split is given); returns its head and buffer addresses. */
  postRx(pair: number, len = 2048, split?: number): { head: number; bufs: number[] } {
    const qi = 2 * pair;
    const q = this.q[qi];
    const head = q.nextDesc++ % QSIZE;
    if (split === undefined) {
      const buf = this.alloc(len);
      this.writeDesc(qi, head, buf, len, VIRTQ_DESC_F.WRITE);
      this.publish(qi, head);
      return { head, bufs: [buf] };
    }
    const second = q.nextDesc++ % QSIZE;
    const b1 = this.alloc(split);
    const b2 = this.alloc(len - split);
    this.writeDesc(qi, head, b1, split, VIRTQ_DESC_F.WRITE | VIRTQ_DESC_F.NEXT, second);
    this.writeDesc(qi, second, b2, len - split, VIRTQ_DESC_F.WRITE);
    this.publish(qi, head);
    return { head, bufs: [b1, b2] };
  }

  /** Queue a frame for TX as header descriptor + data descriptor; ring the doorbell unless NO_NOTIFY. */
  tx(pair: number, frame: Uint8Array): { head: number; notified: boolean } {
    const qi = 2 * pair + 1;
    const q = this.q[qi];
    const hdr = this.alloc(VIRTIO_NET_HDR_BYTES);
    const data = this.alloc(frame.length);
    this.m.memory.copyIn(data, frame);
    const head = q.nextDesc++ % QSIZE;
    const second = q.nextDesc++ % QSIZE;
    this.writeDesc(qi, head, hdr, VIRTIO_NET_HDR_BYTES, VIRTQ_DESC_F.NEXT, second);
    this.writeDesc(qi, second, data, frame.length, 0);
    this.publish(qi, head);
    const notified = (this.m.memory.readU16(q.used) & VIRTQ_USED_F_NO_NOTIFY) === 0;
    if (notified) this.dev.notify(qi);
    return { head, notified };
  }

  usedIdx(qi: number): number {
    return this.m.memory.readU16(this.q[qi].used + 2);
  }

  usedEntry(qi: number, i: number): { id: number; len: number } {
    const e = this.q[qi].used + 4 + 8 * (i % QSIZE);
    return { id: this.m.memory.readU32(e), len: this.m.memory.readU32(e + 4) };
  }

  setAvailFlags(qi: number, flags: number): void {
    this.m.memory.writeU16(this.q[qi].avail, flags);
  }
}

function udpFrame(dst: Uint8Array, src: Uint8Array, sport: number, dport: number, payload: number[]): Uint8Array {
  const ip = new Uint8Array(20 + 8 + payload.length);
  ip[0] = 0x45;
  ip[2] = (ip.length >> 8) & 0xff;
  ip[3] = ip.length & 0xff;
  ip[8] = 64;
  ip[9] = 17;
  ip.set([10, 0, 0, 1], 12);
  ip.set([10, 0, 0, 2], 16);
  ip[20] = sport >> 8;
  ip[21] = sport & 0xff;
  ip[22] = dport >> 8;
  ip[23] = dport & 0xff;
  ip.set(payload, 28);
  return buildEthernetFrame(dst, src, 0x0800, ip);
}

function pending(m: Machine, core: number): number[] {
  const out: number[] = [];
  for (let v = m.cores[core].apic.nextPending(); v >= 0; v = m.cores[core].apic.nextPending()) out.push(v);
  return out;
}

/** Two 2-core machines on a fabric; their NICs drop at once on an empty RX ring unless `rxBacklogFrames` says otherwise. */
function twoMachines(latencyNs = 1_000, rxBacklogFrames = 0) {
  const sim = new Simulation({ seed: 3 });
  const m0 = sim.createMachine({ name: 'm0', cores: 2, memoryBytes: 1 << 20 });
  const m1 = sim.createMachine({ name: 'm1', cores: 2, memoryBytes: 1 << 20 });
  const n0 = new VirtioNetDevice(sim, m0, { rxBacklogFrames });
  const n1 = new VirtioNetDevice(sim, m1, { rxBacklogFrames });
  const fab = new NetworkFabric(sim);
  fab.connect(n0, { latencyNs });
  fab.connect(n1, { latencyNs });
  const d0 = new TestDriver(m0, n0);
  const d1 = new TestDriver(m1, n1);
  d0.init();
  d1.init();
  return { sim, m0, m1, n0, n1, d0, d1, fab };
}

describe('VirtioNetDevice', () => {
  it('negotiates features and follows the status sequence', () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 4, memoryBytes: 1 << 20 });
    const dev = new VirtioNetDevice(sim, m, { mac: '02:11:22:33:44:55' });
    for (const b of [VIRTIO_NET_F.CSUM, VIRTIO_NET_F.MAC, VIRTIO_NET_F.STATUS, VIRTIO_NET_F.MQ, VIRTIO_NET_F.VERSION_1]) {
      expect(dev.offeredFeatures & featureBit(b)).not.toBe(0n);
    }
    expect(dev.config).toEqual({ mac: Uint8Array.of(2, 0x11, 0x22, 0x33, 0x44, 0x55), status: 1, maxVirtqueuePairs: 4 });
    expect(() => dev.negotiate(dev.offeredFeatures)).toThrow(/DRIVER/);
    const drv = new TestDriver(m, dev);
    // Without VERSION_1 the device refuses FEATURES_OK.
    const legacy = featureBit(VIRTIO_NET_F.MAC) | featureBit(40);
    expect(drv.init(legacy)).toBe(featureBit(VIRTIO_NET_F.MAC));
    expect(dev.status & VIRTIO_STATUS.FEATURES_OK).toBe(0);
    expect(() => dev.setupQueue(0, { size: 8, descAddr: 0, availAddr: 256, usedAddr: 512, msixVector: 1 })).toThrow(/FEATURES_OK/);
    expect(drv.init()).toBe(dev.offeredFeatures);
    expect(dev.status).toBe(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER | VIRTIO_STATUS.FEATURES_OK | VIRTIO_STATUS.DRIVER_OK);
    expect(dev.hasFeature(VIRTIO_NET_F.MQ)).toBe(true);
    expect(dev.queueCount).toBe(8);
    // Misconfigured queues are rejected with a reason.
    dev.setStatus(0);
    dev.setStatus(VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER);
    dev.negotiate(dev.offeredFeatures);
    dev.setStatus(dev.status | VIRTIO_STATUS.FEATURES_OK);
    expect(() => dev.setupQueue(0, { size: 6, descAddr: 0, availAddr: 256, usedAddr: 512, msixVector: 1 })).toThrow(/power of two/);
    expect(() => dev.setupQueue(0, { size: 8, descAddr: 8, availAddr: 256, usedAddr: 512, msixVector: 1 })).toThrow(/descAddr/);
    expect(() => dev.setupQueue(0, { size: 8, descAddr: 0, availAddr: 256, usedAddr: (1 << 20) - 8, msixVector: 1 })).toThrow(/usedAddr/);
    expect(() => dev.setupQueue(9, { size: 8, descAddr: 0, availAddr: 256, usedAddr: 512, msixVector: 1 })).toThrow(/queue index/);
  });

  it('round-trips a frame between two machines byte-exact, with used entries and interrupts on the right core', async () => {
    const { sim, m0, m1, n0, n1, d0, d1 } = twoMachines(1_000);
    // Post a split RX buffer (header-sized first descriptor) on every RX queue of m1.
    const posted = [0, 1].map((p) => d1.postRx(p, 2048, VIRTIO_NET_HDR_BYTES));
    const frame = udpFrame(n1.mac, n0.mac, 1234, 5678, Array.from({ length: 100 }, (_, i) => i));
    const pair = n1.rssQueueFor(frame);
    expect(pair).toBe(rssHash(frame) % 2);
    const { head: txHead, notified } = d0.tx(1, frame);
    expect(notified).toBe(true);
    const r = await sim.run();
    expect(r.finalTimeNs).toBe(2_000); // two links of 1 µs each
    // TX side: used entry (len 0: nothing written), interrupt on m0 core 1 (queue pair 1).
    expect(d0.usedIdx(3)).toBe(1);
    expect(d0.usedEntry(3, 0)).toEqual({ id: txHead, len: 0 });
    expect(pending(m0, 1)).toEqual([TX_VECTOR]);
    expect(pending(m0, 0)).toEqual([]);
    expect(n0.stats).toMatchObject({ txFrames: 1, txBytes: frame.length, interrupts: 1 });
    // RX side: the chosen queue got it, the other did not.
    const rxq = 2 * pair;
    expect(d1.usedIdx(rxq)).toBe(1);
    expect(d1.usedIdx(2 * (1 - pair))).toBe(0);
    expect(d1.usedEntry(rxq, 0)).toEqual({ id: posted[pair].head, len: VIRTIO_NET_HDR_BYTES + frame.length });
    const [hdrAddr, dataAddr] = posted[pair].bufs;
    expect(Array.from(m1.memory.view(hdrAddr, VIRTIO_NET_HDR_BYTES))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(m1.memory.copyOut(dataAddr, frame.length)).toEqual(frame);
    expect(pending(m1, pair)).toEqual([RX_VECTOR]);
    expect(pending(m1, 1 - pair)).toEqual([]);
    expect(n1.stats).toMatchObject({ rxFrames: 1, rxBytes: frame.length, rxDroppedNoBuffer: 0 });
  });

  it('rssHashOf(flow) is the hash the device computes from the frame', () => {
    const mac = new Uint8Array(6);
    for (let sport = 0; sport < 65536; sport += 997) {
      for (const dport of [1, 80, 11211, 65535]) {
        expect(rssHashOf(0x0a000001, 0x0a000002, 17, sport, dport)).toBe(rssHash(udpFrame(mac, mac, sport, dport, [1, 2])));
      }
    }
  });

  it('spreads TCP/UDP flows over RX queues with MQ and sends everything else to queue 0', () => {
    const { n0, n1 } = twoMachines();
    const seen = new Set<number>();
    for (let port = 1000; port < 1032; port++) seen.add(n1.rssQueueFor(udpFrame(n1.mac, n0.mac, port, 80, [])));
    expect([...seen].sort()).toEqual([0, 1]);
    expect(n1.rssQueueFor(buildEthernetFrame(n1.mac, n0.mac, 0x0806, new Uint8Array(28)))).toBe(0);
  });

  it('respects NO_INTERRUPT, sets NO_NOTIFY while a TX drain is pending, and counts no-buffer drops', async () => {
    const { sim, m0, m1, n0, n1, d0, d1 } = twoMachines();
    const arp = buildEthernetFrame(n1.mac, n0.mac, 0x0806, new Uint8Array(28)); // -> RX queue 0
    // No RX buffer posted on m1: dropped and counted.
    d0.tx(0, arp);
    await sim.run();
    expect(n1.stats.rxDroppedNoBuffer).toBe(1);
    expect(d1.usedIdx(0)).toBe(0);
    pending(m0, 0);
    // RX interrupt suppressed by the driver; TX interrupt suppressed too.
    d1.postRx(0);
    d1.setAvailFlags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    d0.setAvailFlags(1, VIRTQ_AVAIL_F_NO_INTERRUPT);
    const first = d0.tx(0, arp);
    expect(first.notified).toBe(true);
    // The device set NO_NOTIFY: the driver skips the doorbell for the next frame, which still goes out.
    expect(m0.memory.readU16(d0.q[1].used) & VIRTQ_USED_F_NO_NOTIFY).toBe(1);
    d1.postRx(0);
    const second = d0.tx(0, arp);
    expect(second.notified).toBe(false);
    await sim.run();
    expect(m0.memory.readU16(d0.q[1].used)).toBe(0);
    expect(d0.usedIdx(1)).toBe(3);
    expect(d1.usedIdx(0)).toBe(2);
    expect(pending(m1, 0)).toEqual([]);
    expect(pending(m0, 0)).toEqual([]);
    expect(n1.stats).toMatchObject({ rxFrames: 2, interrupts: 0, interruptsSuppressed: 2 });
    expect(n0.stats.notifications).toBe(2);
  });

  it('holds frames that find no RX buffer (the host queue) in order, asks for the RX doorbell, delivers them once buffers are posted, and drops beyond rxBacklogFrames', async () => {
    const { sim, m1, n0, n1, d0, d1 } = twoMachines(1_000, 2);
    // ARP-like frames (no IPv4: RX queue 0), told apart by their first payload byte.
    const frames = [1, 2, 3, 4].map((k) => buildEthernetFrame(n1.mac, n0.mac, 0x0806, new Uint8Array(28).fill(k)));
    const usedFlags = () => m1.memory.readU16(d1.q[0].used);
    // A buffer posted and used: nothing waits, so the device wants no RX doorbell.
    d1.postRx(0);
    d0.tx(0, frames[0]);
    await sim.run();
    expect(d1.usedIdx(0)).toBe(1);
    expect(usedFlags() & VIRTQ_USED_F_NO_NOTIFY).toBe(VIRTQ_USED_F_NO_NOTIFY);
    // Three more with the ring empty: two are held, the third is beyond the bound and dropped.
    for (const f of frames.slice(1)) d0.tx(0, f);
    await sim.run();
    expect(n1.stats).toMatchObject({ rxFrames: 1, rxBacklogged: 2, rxDroppedNoBuffer: 1 });
    expect(d1.usedIdx(0)).toBe(1);
    expect(usedFlags() & VIRTQ_USED_F_NO_NOTIFY).toBe(0); // held frames: ring the doorbell after posting
    // Posting without the doorbell delivers nothing (the device is not polling the ring).
    const b1 = d1.postRx(0);
    await sim.run();
    expect(d1.usedIdx(0)).toBe(1);
    n1.notify(0);
    await sim.run();
    expect(d1.usedIdx(0)).toBe(2);
    expect(d1.usedEntry(0, 1)).toEqual({ id: b1.head, len: VIRTIO_NET_HDR_BYTES + frames[1].length });
    expect(m1.memory.copyOut(b1.bufs[0] + VIRTIO_NET_HDR_BYTES, frames[1].length)).toEqual(frames[1]);
    // A frame arriving while one is still held queues behind it, even with a buffer posted meanwhile.
    const b2 = d1.postRx(0);
    d0.tx(0, frames[0]);
    await sim.run();
    expect(n1.stats.rxBacklogged).toBe(3);
    n1.notify(0);
    await sim.run();
    expect(d1.usedIdx(0)).toBe(3);
    expect(m1.memory.copyOut(b2.bufs[0] + VIRTIO_NET_HDR_BYTES, frames[2].length)).toEqual(frames[2]);
    const b3 = d1.postRx(0);
    n1.notify(0);
    await sim.run();
    expect(m1.memory.copyOut(b3.bufs[0] + VIRTIO_NET_HDR_BYTES, frames[0].length)).toEqual(frames[0]);
    expect(n1.stats).toMatchObject({ rxFrames: 4, rxBacklogged: 3, rxDroppedNoBuffer: 1 });
    // Drained: the next frame with a buffer posted goes straight in and the device goes quiet again.
    d1.postRx(0);
    d0.tx(0, frames[3]);
    await sim.run();
    expect(d1.usedIdx(0)).toBe(5);
    expect(usedFlags() & VIRTQ_USED_F_NO_NOTIFY).toBe(VIRTQ_USED_F_NO_NOTIFY);
    expect(() => new VirtioNetDevice(sim, m1, { rxBacklogFrames: -1 })).toThrow(/rxBacklogFrames must be an integer >= 0, got -1/);
  });

  it('counts malformed descriptor chains and never throws out of the simulation', async () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 1, memoryBytes: 1 << 16 });
    const dev = new VirtioNetDevice(sim, m);
    const out: Uint8Array[] = [];
    dev.attach({ receive: (f) => out.push(f) });
    const d = new TestDriver(m, dev);
    d.init();
    // 1. Address beyond guest memory.
    d.writeDesc(1, 0, (1 << 16) - 10, 100, 0);
    d.publish(1, 0);
    // 2. A NEXT loop: 1 -> 2 -> 1.
    d.writeDesc(1, 1, 0x8000, 12, VIRTQ_DESC_F.NEXT, 2);
    d.writeDesc(1, 2, 0x8100, 64, VIRTQ_DESC_F.NEXT, 1);
    d.publish(1, 1);
    // 3. Huge length (u32 max) and a 64-bit address far outside memory.
    d.writeDesc(1, 3, 0x8000, 0xffffffff, 0);
    d.publish(1, 3);
    d.writeDesc(1, 4, 0xffff_ffff_ffff_0000n, 64, 0);
    d.publish(1, 4);
    // 5. Head index outside the table, and a device-writable descriptor on TX.
    d.publish(1, 200);
    d.writeDesc(1, 5, 0x8000, 64, VIRTQ_DESC_F.WRITE);
    d.publish(1, 5);
    // 6. A good frame after all that still goes out.
    m.memory.copyIn(0x9000 + VIRTIO_NET_HDR_BYTES, buildEthernetFrame('ff:ff:ff:ff:ff:ff', dev.mac, 0x88b5, new Uint8Array(10)));
    d.writeDesc(1, 6, 0x9000, VIRTIO_NET_HDR_BYTES + 24, 0);
    d.publish(1, 6);
    dev.notify(1);
    await expect(sim.run()).resolves.toMatchObject({ reason: 'quiescent' });
    expect(dev.stats.txErrors).toBe(6);
    expect(dev.stats.txFrames).toBe(1);
    expect(out.length).toBe(1);
    expect(d.usedIdx(1)).toBe(7);
    expect(d.usedEntry(1, 2)).toEqual({ id: 3, len: 0 });

    // RX: a chain too small for header + frame, and a read-only buffer: returned with len 0, counted.
    d.writeDesc(0, 0, 0xa000, 20, VIRTQ_DESC_F.WRITE);
    d.publish(0, 0);
    d.writeDesc(0, 1, 0xa000, 2048, 0);
    d.publish(0, 1);
    const f = buildEthernetFrame(dev.mac, '02:00:00:00:00:99', 0x88b5, new Uint8Array(50));
    dev.receive(f);
    dev.receive(f);
    expect(dev.stats.rxErrors).toBe(2);
    expect(d.usedEntry(0, 1)).toEqual({ id: 1, len: 0 });
    // An avail index jumping more than the queue size: queue broken, DEVICE_NEEDS_RESET.
    m.memory.writeU16(d.q[0].avail + 2, 1000);
    dev.receive(f);
    expect(dev.stats.ringErrors).toBe(1);
    expect(dev.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(VIRTIO_STATUS.DEVICE_NEEDS_RESET);
    dev.receive(f);
    expect(dev.stats.rxDroppedNotReady).toBe(1);
    // Reset and re-init clears it.
    d.init();
    expect(dev.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(0);
  });
});

describe('VirtioNetDevice faults', () => {
  /** Two one-core machines on a fabric; `faults` on the receiving NIC (n1), `txFaults` on the sender (n0). */
  function faulty(seed: number, faults?: VirtioNetFaults, txFaults?: VirtioNetFaults) {
    const sim = new Simulation({ seed, trace: true });
    const m0 = sim.createMachine({ name: 'm0', cores: 1, memoryBytes: 1 << 20 });
    const m1 = sim.createMachine({ name: 'm1', cores: 1, memoryBytes: 1 << 20 });
    // No host queue: an empty RX ring drops at once (the exhaustion test counts those drops).
    const n0 = new VirtioNetDevice(sim, m0, txFaults === undefined ? { rxBacklogFrames: 0 } : { faults: txFaults, rxBacklogFrames: 0 });
    const n1 = new VirtioNetDevice(sim, m1, faults === undefined ? { rxBacklogFrames: 0 } : { faults, rxBacklogFrames: 0 });
    const fab = new NetworkFabric(sim);
    fab.connect(n0, { latencyNs: 1_000 });
    fab.connect(n1, { latencyNs: 1_000 });
    const d0 = new TestDriver(m0, n0);
    const d1 = new TestDriver(m1, n1);
    d0.init();
    d1.init();
    const frame = (i: number): Uint8Array => buildEthernetFrame(n1.mac, n0.mac, 0x0806, Uint8Array.from({ length: 28 }, () => i & 0xff));
    return { sim, m0, m1, n0, n1, d0, d1, frame };
  }

  /** Sends `count` frames one at a time (one RX buffer kept posted); returns which arrived. */
  async function stream(f: ReturnType<typeof faulty>, count: number): Promise<boolean[]> {
    const arrived: boolean[] = [];
    let posted = false;
    for (let i = 0; i < count; i++) {
      if (!posted) f.d1.postRx(0);
      posted = true;
      const before = f.d1.usedIdx(0);
      f.d0.tx(0, f.frame(i));
      await f.sim.run();
      arrived.push(f.d1.usedIdx(0) !== before);
      if (f.d1.usedIdx(0) !== before) posted = false;
      pending(f.m0, 0);
      pending(f.m1, 0);
    }
    return arrived;
  }

  it('refuses bad fault options, naming the field', () => {
    const sim = new Simulation();
    const m = sim.createMachine({ cores: 1, memoryBytes: 1 << 16 });
    const cases: [unknown, RegExp][] = [
      [{ interruptLoss: 1.5 }, /faults\.interruptLoss must be a probability/],
      [{ interruptDelay: { probability: 0.1 } }, /faults\.interruptDelay\.maxNs must be an integer/],
      [{ interruptDelay: { probability: 0.1, maxNs: 0 } }, /faults\.interruptDelay\.maxNs/],
      [{ txCompletionDelay: { probability: -1, maxNs: 5 } }, /faults\.txCompletionDelay\.probability/],
      [{ rxNoBuffer: { probability: 0.1, burst: 0 } }, /faults\.rxNoBuffer\.burst must be an integer >= 1/],
      [{ rxNoBuffer: { probability: 0.1, bursts: 2 } }, /faults\.rxNoBuffer\.bursts must be absent/],
      [{ interuptLoss: 0.1 }, /faults\.interuptLoss must be absent \(known: rxNoBuffer, interruptDelay, interruptLoss, txCompletionDelay, deviceReset, configInterruptLoss\)/],
      [{ deviceReset: 2 }, /faults\.deviceReset must be a probability/],
      [{ configInterruptLoss: -0.5 }, /faults\.configInterruptLoss must be a probability in \[0, 1\], got -0\.5/],
      [null, /virtio-net faults must be an object/],
    ];
    for (const [faults, message] of cases) {
      expect(() => new VirtioNetDevice(sim, m, { faults: faults as VirtioNetFaults }), JSON.stringify(faults)).toThrow(message);
    }
    const dev = new VirtioNetDevice(sim, m, { mac: '02:00:00:00:00:09' });
    expect(() => dev.setFaults({ interruptLoss: Number.NaN })).toThrow(/faults\.interruptLoss/);
    expect(dev.faults).toEqual({});
    dev.setFaults({ rxNoBuffer: { probability: 0.5 } });
    expect(dev.faults).toEqual({ rxNoBuffer: { probability: 0.5, burst: 1 } });
  });

  it('RX ring exhaustion: frames find no posted buffer in bursts, are dropped and counted; the posted buffers stay', async () => {
    const f = faulty(5, { rxNoBuffer: { probability: 0.2, burst: 4 } });
    const arrived = await stream(f, 200);
    const dropped = arrived.filter((a) => !a).length;
    expect(dropped).toBeGreaterThan(0);
    expect(f.n1.stats).toMatchObject({ rxDroppedNoBuffer: dropped, faultRxNoBuffer: dropped, rxFrames: 200 - dropped });
    // Every run of drops but the last is at least a burst long.
    const runs = arrived.map((a) => (a ? '.' : 'x')).join('').split('.').filter((r) => r.length > 0);
    expect(runs.slice(0, -1).every((r) => r.length >= 4)).toBe(true);
    // The buffers a dropped frame did not take are used by the next frames: none is lost.
    expect(f.d1.usedIdx(0)).toBe(200 - dropped);
  });

  it('a lost interrupt: the used entry is written, no vector is raised', async () => {
    const f = faulty(1, { interruptLoss: 1 });
    const arrived = await stream(f, 3);
    expect(arrived).toEqual([true, true, true]);
    f.d1.postRx(0);
    f.d0.tx(0, f.frame(9));
    await f.sim.run();
    expect(pending(f.m1, 0)).toEqual([]);
    expect(f.n1.stats).toMatchObject({ rxFrames: 4, interrupts: 0, faultInterruptsLost: 4 });
  });

  it('a late interrupt: the used entry is there at arrival, the vector comes up to maxNs later', async () => {
    const f = faulty(2, { interruptDelay: { probability: 1, maxNs: 50_000 } });
    f.d1.postRx(0);
    f.d0.tx(0, f.frame(1));
    await f.sim.run({ untilNs: 2_000 }); // two 1 µs links: the frame is in m1's ring now
    expect(f.d1.usedIdx(0)).toBe(1);
    expect(pending(f.m1, 0)).toEqual([]);
    expect(f.n1.stats).toMatchObject({ interrupts: 0, faultInterruptsDelayed: 1 });
    const r = await f.sim.run();
    expect(r.finalTimeNs).toBeGreaterThan(2_000);
    expect(r.finalTimeNs).toBeLessThanOrEqual(52_000);
    expect(pending(f.m1, 0)).toEqual([RX_VECTOR]);
    expect(f.n1.stats.interrupts).toBe(1);
  });

  it('a late TX completion: the frame leaves at once, its used entries (in order) and interrupt come later', async () => {
    const f = faulty(3, undefined, { txCompletionDelay: { probability: 1, maxNs: 100_000 } });
    f.d1.postRx(0);
    f.d1.postRx(0);
    const a = f.d0.tx(0, f.frame(1));
    await f.sim.run({ untilNs: 2_000 });
    expect(f.d1.usedIdx(0)).toBe(1); // delivered
    expect(f.d0.usedIdx(1)).toBe(0); // not yet completed
    const b = f.d0.tx(0, f.frame(2)); // a second drain while the first is held: it waits behind it
    await f.sim.run({ untilNs: 4_000 });
    expect(f.d1.usedIdx(0)).toBe(2);
    expect(f.d0.usedIdx(1)).toBe(0);
    expect(pending(f.m0, 0)).toEqual([]);
    await f.sim.run();
    expect(f.d0.usedIdx(1)).toBe(2);
    expect([f.d0.usedEntry(1, 0).id, f.d0.usedEntry(1, 1).id]).toEqual([a.head, b.head]);
    expect(pending(f.m0, 0)).toEqual([TX_VECTOR]);
    expect(f.n0.stats.faultTxCompletionsDelayed).toBeGreaterThanOrEqual(1);
  });

  it('a device reset: DEVICE_NEEDS_RESET, queues dropped, the configuration interrupt; a reset and a new setup bring it back', async () => {
    const CONFIG_VECTOR = 0x42;
    const f = faulty(6, { deviceReset: 1 });
    expect(() => f.n1.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 1 })).toThrow(/config interrupt core 1 does not exist on machine 'm1'/);
    f.n1.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 0 });
    f.d1.postRx(0);
    f.d0.tx(0, f.frame(1));
    await f.sim.run();
    // The frame made the device fail: nothing was used, the configuration vector came up instead.
    expect(f.d1.usedIdx(0)).toBe(0);
    expect(f.n1.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    expect(f.n1.queue(0)).toBeUndefined();
    expect(pending(f.m1, 0)).toEqual([CONFIG_VECTOR]);
    expect(f.n1.stats).toMatchObject({ faultDeviceResets: 1, configInterrupts: 1, rxDroppedNotReady: 1, rxFrames: 0 });
    expect(f.sim.faults.count('virtio-net.device-reset')).toBe(1);
    // Further frames are dropped without another draw or interrupt until the driver resets it.
    f.d0.tx(0, f.frame(2));
    await f.sim.run();
    expect(f.n1.stats).toMatchObject({ faultDeviceResets: 1, configInterrupts: 1, rxDroppedNotReady: 2 });
    // The reset forgets the queues and the configuration vector; the driver sets both up again.
    f.n1.setFaults({});
    f.d1.init();
    expect(f.n1.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(0);
    expect(f.n1.configInterrupt).toBeUndefined();
    f.d1.postRx(0);
    f.d0.tx(0, f.frame(3));
    await f.sim.run();
    expect(f.d1.usedIdx(0)).toBe(1);
    expect(pending(f.m1, 0)).toEqual([RX_VECTOR]);
    // A TX drain fails the same way: what was queued is not sent and not returned.
    const g = faulty(6, undefined, { deviceReset: 1 });
    g.n0.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 0 });
    g.d1.postRx(0);
    g.d0.tx(0, g.frame(1));
    await g.sim.run();
    expect(g.n0.stats).toMatchObject({ faultDeviceResets: 1, txFrames: 0 });
    expect(g.d0.usedIdx(1)).toBe(0);
    expect(g.d1.usedIdx(0)).toBe(0);
    expect(pending(g.m0, 0)).toEqual([CONFIG_VECTOR]);
  });

  it('a ring error (avail index past the queue size) sets DEVICE_NEEDS_RESET and raises the configuration interrupt once (virtio 1.x §2.1.2)', async () => {
    const CONFIG_VECTOR = 0x42;
    const f = faulty(6);
    f.n1.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 0 });
    f.d1.postRx(0);
    f.m1.memory.writeU16(f.d1.q[0].avail + 2, 1000);
    f.d0.tx(0, f.frame(1));
    await f.sim.run();
    expect(f.n1.stats).toMatchObject({ ringErrors: 1, configInterrupts: 1, rxFrames: 0 });
    expect(f.n1.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    expect(pending(f.m1, 0)).toEqual([CONFIG_VECTOR]);
    // The broken queue is dead until a reset, and the bit already set raises nothing more.
    f.d0.tx(0, f.frame(2));
    await f.sim.run();
    expect(f.n1.stats).toMatchObject({ ringErrors: 1, configInterrupts: 1, rxDroppedNotReady: 1 });
    expect(pending(f.m1, 0)).toEqual([]);
    // A TX ring error does the same on the sender.
    f.n0.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 0 });
    f.m0.memory.writeU16(f.d0.q[1].avail + 2, 3000);
    f.n0.notify(1);
    await f.sim.run();
    expect(f.n0.stats).toMatchObject({ ringErrors: 1, configInterrupts: 1 });
    expect(pending(f.m0, 0)).toContain(CONFIG_VECTOR);
    // No fault was drawn or recorded: a ring error is the driver's bug, not an injected fault.
    expect(f.sim.faults.counts()).toEqual({});
  });

  it('a lost configuration interrupt: DEVICE_NEEDS_RESET is set, no vector is raised, the loss is counted and traced', async () => {
    const CONFIG_VECTOR = 0x42;
    const f = faulty(6, { deviceReset: 1, configInterruptLoss: 1 });
    f.n1.setConfigInterrupt({ vector: CONFIG_VECTOR, core: 0 });
    f.d1.postRx(0);
    f.d0.tx(0, f.frame(1));
    await f.sim.run();
    expect(f.n1.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    expect(pending(f.m1, 0)).toEqual([]);
    expect(f.n1.stats).toMatchObject({ faultDeviceResets: 1, faultConfigInterruptsLost: 1, configInterrupts: 0 });
    expect(f.sim.faults.count('virtio-net.config-interrupt-lost')).toBe(1);
    expect(f.sim.trace.toJSON()).toContain('fault: virtio-net.config-interrupt-lost');
    // Without the reset fault the loss is never drawn: a device that never fails draws nothing for it.
    const g = faulty(6, { configInterruptLoss: 1 });
    await stream(g, 5);
    expect(g.n1.stats.faultConfigInterruptsLost).toBe(0);
    const h = faulty(6);
    await stream(h, 5);
    expect(g.sim.trace.toJSON()).toBe(h.sim.trace.toJSON());
  });

  it('property: under any faults every frame is delivered or counted, every interrupt raised or counted lost, every TX completed, and a seed replays', async () => {
    const prob = fc.double({ min: 0, max: 1, noNaN: true });
    const delay = fc.record({ probability: prob, maxNs: fc.integer({ min: 1, max: 100_000 }) });
    const faultsArb = fc.record(
      {
        rxNoBuffer: fc.record({ probability: prob, burst: fc.integer({ min: 1, max: 8 }) }),
        interruptDelay: delay,
        interruptLoss: prob,
        txCompletionDelay: delay,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 32 - 1 }), faultsArb, fc.integer({ min: 1, max: 30 }), async (seed, faults, count) => {
        const once = async () => {
          const f = faulty(seed, faults, faults);
          const arrived = await stream(f, count);
          return { f, arrived, trace: f.sim.trace.toJSON() };
        };
        const { f, arrived, trace } = await once();
        const rx = f.n1.stats;
        expect(rx.rxFrames).toBe(arrived.filter(Boolean).length);
        expect(rx.rxFrames + rx.rxDroppedNoBuffer).toBe(count);
        expect(rx.rxDroppedNoBuffer).toBe(rx.faultRxNoBuffer);
        expect(rx.interrupts + rx.faultInterruptsLost).toBe(rx.rxFrames);
        expect(f.d0.usedIdx(1)).toBe(count); // every transmitted chain came back, late or not
        expect(f.n0.stats.txFrames).toBe(count);
        expect((await once()).trace).toBe(trace);
      }),
      { numRuns: 40 },
    );
  });

  it('each fault changes the Chrome trace; the same seed and faults reproduce it byte for byte', async () => {
    const all: VirtioNetFaults = {
      rxNoBuffer: { probability: 0.1, burst: 2 },
      interruptDelay: { probability: 0.3, maxNs: 20_000 },
      interruptLoss: 0.1,
      txCompletionDelay: { probability: 0.3, maxNs: 20_000 },
    };
    const run = async (seed: number, faults?: VirtioNetFaults): Promise<{ trace: string; end: number }> => {
      const f = faulty(seed, faults, faults);
      await stream(f, 60);
      return { trace: f.sim.trace.toJSON(), end: f.sim.now() };
    };
    const clean = await run(4);
    expect(clean.trace).not.toMatch(/fault: virtio-net/);
    const names: Record<string, string> = {
      rxNoBuffer: 'fault: virtio-net.rx-no-buffer',
      interruptDelay: 'fault: virtio-net.interrupt-late',
      interruptLoss: 'fault: virtio-net.interrupt-lost',
      txCompletionDelay: 'fault: virtio-net.tx-completion-late',
    };
    for (const key of Object.keys(all) as (keyof VirtioNetFaults)[]) {
      const one = { [key]: all[key] } as VirtioNetFaults;
      const a = await run(4, one);
      expect(a.trace, key).not.toBe(clean.trace);
      expect(a.trace, key).toContain(names[key]);
      expect((await run(4, one)).trace, key).toBe(a.trace);
    }
    const a = await run(4, all);
    const b = await run(4, all);
    expect(b.trace).toBe(a.trace);
    expect(b.end).toBe(a.end);
    expect((await run(5, all)).trace).not.toBe(a.trace);
  });
});
