import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, formatMac, type FramePort } from './frame.js';
import { NetworkFabric } from './link.js';
import { PcapWriter } from './pcap.js';
import { UdpTapBridge } from '../node/tap-bridge.js';

/** One record of a classic little-endian pcap. */
interface PcapRecord {
  sec: number;
  ns: number;
  frame: Uint8Array;
}

function parsePcap(b: Uint8Array): PcapRecord[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: PcapRecord[] = [];
  for (let o = 24; o < b.length; ) {
    const incl = dv.getUint32(o + 8, true);
    out.push({ sec: dv.getUint32(o, true), ns: dv.getUint32(o + 4, true), frame: b.slice(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  return out;
}

const srcMac = (f: Uint8Array): string => formatMac(f.subarray(6, 12));

/** A node stand-in: answers every question (EtherType 0x88b5) with an answer (0x88b6) to its sender. */
class Echo implements FramePort {
  tx: FramePort | null = null;
  constructor(readonly mac: string) {}
  attach(tx: FramePort): void {
    this.tx = tx;
  }
  receive(frame: Uint8Array): void {
    if (frame[12] !== 0x88 || frame[13] !== 0xb5) return;
    this.tx!.receive(buildEthernetFrame(srcMac(frame), this.mac, 0x88b6, frame.subarray(14)));
  }
}

const NODE = '02:00:00:00:00:02';
const LINUX = '02:00:00:00:00:01';

describe('NetworkFabric.capture', () => {
  it('records frames entering from the TAP bridge as well as the nodes\' (both directions), with wall-clock timestamps under realtime', async () => {
    const sim = new Simulation({ clock: 'realtime' });
    const origin = sim.wallClockOriginMs!;
    expect(Math.abs(origin - Date.now())).toBeLessThan(60_000);
    const fabric = new NetworkFabric(sim);
    const pcap = new PcapWriter({ epochOriginMs: origin });
    fabric.capture(pcap);
    fabric.connect(new Echo(NODE), { name: 'node', latencyNs: 10_000 });
    const bridge = await UdpTapBridge.open(sim);
    fabric.connect(bridge, { name: 'tap' });
    // socat's side of the tunnel: a plain UDP socket on loopback (no root, no TAP).
    const linux = createSocket('udp4');
    await new Promise<void>((r) => linux.bind(0, '127.0.0.1', () => r()));
    const replies: Buffer[] = [];
    const gotAll = new Promise<void>((r) =>
      linux.on('message', (m) => {
        replies.push(m);
        if (replies.length === 3) r();
      }),
    );
    const running = sim.run({ stopWhenIdle: false, untilNs: 20e9 });
    const before = Date.now();
    try {
      for (let i = 0; i < 3; i++) {
        linux.send(buildEthernetFrame(NODE, LINUX, 0x88b5, Uint8Array.of(i, 0xaa)), bridge.port, '127.0.0.1');
      }
      await gotAll;
    } finally {
      sim.stop();
      await running;
      linux.close();
      await bridge.close();
    }
    const after = Date.now();
    const recs = parsePcap(pcap.bytes());
    // Each frame once: the Linux side's three, and the node's three answers.
    expect(recs.map((r) => srcMac(r.frame)).sort()).toEqual([LINUX, LINUX, LINUX, NODE, NODE, NODE]);
    for (let i = 0; i < 3; i++) {
      const q = recs.findIndex((r) => srcMac(r.frame) === LINUX && r.frame[14] === i);
      const a = recs.findIndex((r) => srcMac(r.frame) === NODE && r.frame[14] === i);
      expect(q).toBeGreaterThanOrEqual(0);
      expect(a).toBeGreaterThan(q); // the question is recorded before its answer
    }
    for (const r of recs) {
      const ms = r.sec * 1000 + r.ns / 1e6;
      expect(ms).toBeGreaterThanOrEqual(before - 1000);
      expect(ms).toBeLessThanOrEqual(after + 1000);
    }
  });

  it('records a flooded frame once, covers endpoints connected or plugged later, and is byte-identical by seed under a virtual clock', async () => {
    const capture = async (seed: number): Promise<Uint8Array> => {
      const sim = new Simulation({ seed });
      expect(sim.wallClockOriginMs).toBeUndefined();
      const fabric = new NetworkFabric(sim);
      const pcap = new PcapWriter();
      fabric.capture(pcap); // before any endpoint exists
      const hosts = ['02:00:00:00:00:0a', '02:00:00:00:00:0b', '02:00:00:00:00:0c'].map((m) => new Echo(m));
      fabric.connect(hosts[0]!, { name: 'a', latencyNs: 1_000, reorder: 0.3, reorderDelayNs: 5_000 });
      fabric.connect(hosts[1]!, { name: 'b', latencyNs: 2_000, duplicate: 0.3 });
      fabric.switch.plug(hosts[2]!); // no link
      for (let i = 0; i < 20; i++) hosts[i % 3]!.tx!.receive(buildEthernetFrame(hosts[(i + 1) % 3]!.mac, hosts[i % 3]!.mac, 0x88b5, Uint8Array.of(i)));
      // A broadcast from c: flooded to a and b, each answers once.
      hosts[2]!.tx!.receive(buildEthernetFrame('ff:ff:ff:ff:ff:ff', hosts[2]!.mac, 0x88b5, Uint8Array.of(99)));
      await sim.run({ untilNs: 1e9 });
      return pcap.bytes();
    };
    const a = await capture(7);
    const recs = parsePcap(a);
    expect(recs.filter((r) => r.frame[0] === 0xff)).toHaveLength(1);
    expect(recs.filter((r) => r.frame[14] === 99 && r.frame[0] !== 0xff).length).toBeGreaterThanOrEqual(2);
    expect(recs[0]!.sec).toBe(0); // simulation time, not the calendar
    expect(Buffer.from(await capture(7)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(await capture(8)).equals(Buffer.from(a))).toBe(false);
  });
});

describe('PcapWriter epochOriginMs', () => {
  it('adds the origin exactly (carry into seconds, ns and µs) and refuses a bad one naming the field', () => {
    const w = new PcapWriter({ epochOriginMs: 1_700_000_000_999 });
    w.record(1_500_000_123, new Uint8Array(20));
    const u = new PcapWriter({ epochOriginMs: 1_700_000_000_999, nanosecond: false });
    u.record(1_500_000_123, new Uint8Array(20));
    expect(parsePcap(w.bytes())[0]).toMatchObject({ sec: 1_700_000_002, ns: 499_000_123 });
    expect(parsePcap(u.bytes())[0]).toMatchObject({ sec: 1_700_000_002, ns: 499_000 });
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 32 * 1000]) {
      expect(() => new PcapWriter({ epochOriginMs: bad })).toThrow(/epochOriginMs/);
    }
  });
});
