import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, type FramePort } from '../net/frame.js';
import { NetworkFabric } from '../net/link.js';
import { MAX_PACKED_DATAGRAM, PACKED_ERRORS, packFrames, unpackFrames } from './packed-frames.js';
import { UdpTapBridge } from './tap-bridge.js';

const frameArb = fc.uint8Array({ minLength: 1, maxLength: 1600 });

describe('packFrames / unpackFrames', () => {
  it('property: unpack(pack(frames)) gives the frames back, byte for byte and in order, as views', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 40 }), (frames) => {
        const packed = packFrames(frames);
        expect(packed.length).toBe(frames.reduce((a, f) => a + 2 + f.length, 0));
        const { frames: back, error } = unpackFrames(packed);
        expect(error).toBeUndefined();
        expect(back.map((f) => Array.from(f))).toEqual(frames.map((f) => Array.from(f)));
        for (const f of back) expect(f.buffer).toBe(packed.buffer); // no copy
      }),
    );
  });

  it('property: any datagram cut short is rejected whole, naming short-header or overrun', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), fc.nat(), (frames, cutSeed) => {
        const packed = packFrames(frames);
        // Every cut that does not fall on a record boundary leaves a partial record.
        const boundaries = new Set<number>([0]);
        let at = 0;
        for (const f of frames) boundaries.add((at += 2 + f.length));
        const cut = 1 + (cutSeed % (packed.length - 1));
        const r = unpackFrames(packed.subarray(0, cut));
        if (boundaries.has(cut)) {
          expect(r.error).toBeUndefined();
        } else {
          expect(['short-header', 'overrun']).toContain(r.error);
          expect(r.frames).toEqual([]);
        }
      }),
    );
  });

  it('property: arbitrary bytes never throw; accepted ones re-pack to exactly the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = unpackFrames(bytes);
        if (r.error === undefined) expect(Array.from(packFrames(r.frames))).toEqual(Array.from(bytes));
        else {
          expect(PACKED_ERRORS).toContain(r.error);
          expect(r.frames).toEqual([]);
        }
      }),
    );
  });

  it('names each malformation', () => {
    expect(unpackFrames(new Uint8Array(0)).error).toBe('empty-datagram');
    expect(unpackFrames(Uint8Array.of(0, 1, 9, 0)).error).toBe('short-header');
    expect(unpackFrames(Uint8Array.of(0, 1, 9, 0, 0)).error).toBe('empty-record');
    expect(unpackFrames(Uint8Array.of(0, 3, 9, 9)).error).toBe('overrun');
    expect(() => packFrames([new Uint8Array(0)])).toThrow(/0 B cannot be packed/);
    expect(() => packFrames([new Uint8Array(65536)])).toThrow(/65536 B cannot be packed/);
  });
});

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

async function until(what: string, done: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > 3_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A packed-framing bridge on a fabric with one host port beside it, and the bridge's UDP peer:
 * `got` is what the host port hears, `hostTx()` sends from it. Both sockets close after `fn`.
 */
async function withPackedBridge(
  fn: (t: { sim: Simulation; peer: Socket; bridge: UdpTapBridge; got: Uint8Array[]; hostTx: () => FramePort }) => Promise<void>,
): Promise<void> {
  const sim = new Simulation();
  const fab = new NetworkFabric(sim);
  const peer = await udp();
  const bridge = await UdpTapBridge.open(sim, { framing: 'packed', peer: { address: '127.0.0.1', port: peer.address().port } });
  try {
    fab.connect(bridge);
    const got: Uint8Array[] = [];
    let tx: FramePort | null = null;
    fab.connect({ receive: (f: Uint8Array) => got.push(f), attach: (port: FramePort) => (tx = port) });
    await fn({ sim, peer, bridge, got, hostTx: () => tx! });
  } finally {
    peer.close();
    await bridge.close();
  }
}

describe('UdpTapBridge, packed framing (the TAP helper\'s side of the socket)', () => {
  it('sends the frames of one macrotask as one datagram, and delivers a packed datagram\'s frames in order', async () => {
    await withPackedBridge(async ({ sim, peer, bridge, got, hostTx }) => {
      const out = [1, 2, 3, 4, 5].map((i) => buildEthernetFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:02', 0x0800, new Uint8Array(40 + i).fill(i)));
      const datagrams: Buffer[] = [];
      peer.on('message', (m) => datagrams.push(m));
      for (const f of out) hostTx().receive(f);
      await sim.run();
      await until('the packed datagram', () => datagrams.length > 0);
      expect(datagrams).toHaveLength(1);
      expect(unpackFrames(datagrams[0]!).frames.map((f) => Array.from(f))).toEqual(out.map((f) => Array.from(f)));
      expect(bridge.stats).toMatchObject({ txDatagrams: 5, txPackedDatagrams: 1, txDropped: 0 });

      const inbound = [7, 8, 9].map((i) => buildEthernetFrame('ff:ff:ff:ff:ff:ff', '02:aa:00:00:00:01', 0x0806, new Uint8Array(28).fill(i)));
      peer.send(packFrames(inbound), bridge.port, '127.0.0.1');
      await until('the inbound frames', () => bridge.stats.rxDatagrams === 3);
      await sim.run();
      expect(got.map((f) => Array.from(f))).toEqual(inbound.map((f) => Array.from(f)));
      expect(bridge.stats.rxPackedDatagrams).toBe(1);
    });
  });

  it('rejects a malformed packed datagram whole, counted by its reason, and delivers nothing of it', async () => {
    await withPackedBridge(async ({ sim, peer, bridge, got }) => {
      const good = buildEthernetFrame('ff:ff:ff:ff:ff:ff', '02:aa:00:00:00:01', 0x0806, new Uint8Array(28).fill(1));
      const whole = packFrames([good, good]);
      const bad: [string, Uint8Array][] = [
        ['short-header', Uint8Array.of(...whole, 0)],
        ['overrun', whole.subarray(0, whole.length - 5)],
        ['empty-record', Uint8Array.of(...packFrames([good]), 0, 0)],
      ];
      for (const [, d] of bad) peer.send(d, bridge.port, '127.0.0.1');
      await until('three rejections', () => Object.values(bridge.stats.rxBadPacked).reduce((a, b) => a + b, 0) === 3);
      await sim.run();
      expect(bridge.stats.rxBadPacked).toEqual({ 'empty-datagram': 0, 'short-header': 1, 'empty-record': 1, overrun: 1 });
      expect(got).toEqual([]);
      expect(bridge.stats.rxDatagrams).toBe(0);
      // A stranger's datagram is ignored before it is parsed.
      const stranger = await udp();
      stranger.send(whole, bridge.port, '127.0.0.1');
      await until('the stranger ignored', () => bridge.stats.rxIgnored === 1);
      stranger.close();
      expect(got).toEqual([]);
    });
  });

  it('splits a burst larger than one datagram into several, none over the UDP limit', async () => {
    await withPackedBridge(async ({ sim, peer, hostTx }) => {
      const datagrams: Buffer[] = [];
      peer.on('message', (m) => datagrams.push(m));
      const frames = Array.from({ length: 100 }, (_, i) => buildEthernetFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:02', 0x0800, new Uint8Array(1486).fill(i)));
      for (const f of frames) hostTx().receive(f);
      await sim.run();
      await until('every frame', () => datagrams.reduce((a, d) => a + unpackFrames(d).frames.length, 0) === 100);
      expect(datagrams.length).toBe(Math.ceil((100 * 1502) / MAX_PACKED_DATAGRAM));
      for (const d of datagrams) expect(d.length).toBeLessThanOrEqual(MAX_PACKED_DATAGRAM);
      const back = datagrams.flatMap((d) => unpackFrames(d).frames);
      expect(back.map((f) => f[20])).toEqual(frames.map((f) => f[20]));
    });
  });
});
