/**
 * What the virtio-net device tests share: a minimal driver written against the split-ring layout
 * (it writes descriptors and rings in guest memory itself, so it checks the device and not our
 * lwIP driver), a UDP frame builder, the APIC's pending vectors, and two machines on a fabric.
 */
import type { Machine } from '../src/machine.js';
import { Simulation } from '../src/simulation.js';
import { buildEthernetFrame } from '../src/net/frame.js';
import { NetworkFabric } from '../src/net/link.js';
import { VIRTIO_NET_HDR_BYTES, VIRTIO_STATUS, VIRTQ_DESC_F, VIRTQ_USED_F_NO_NOTIFY, VirtioNetDevice, virtqueueLayout } from '../src/net/index.js';

const QSIZE = 8;
export const RX_VECTOR = 0x40;
export const TX_VECTOR = 0x41;

/** A minimal driver written against the split-ring layout, operating on guest memory directly. */
export class TestDriver {
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

export function udpFrame(dst: Uint8Array, src: Uint8Array, sport: number, dport: number, payload: number[]): Uint8Array {
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

export function pending(m: Machine, core: number): number[] {
  const out: number[] = [];
  for (let v = m.cores[core].apic.nextPending(); v >= 0; v = m.cores[core].apic.nextPending()) out.push(v);
  return out;
}

/** Two 2-core machines on a fabric; their NICs drop at once on an empty RX ring unless `rxBacklogFrames` says otherwise. */
export function twoMachines(latencyNs = 1_000, rxBacklogFrames = 0) {
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
