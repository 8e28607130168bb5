/** The virtio-net device against the split-ring TestDriver: feature negotiation and status, a frame round trip, RSS, notification suppression, the host RX backlog, and malformed chains counted, never thrown. */
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame } from './frame.js';
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
} from './index.js';
import { RX_VECTOR, TX_VECTOR, TestDriver, pending, twoMachines, udpFrame } from '../../test/virtio-driver.js';

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
