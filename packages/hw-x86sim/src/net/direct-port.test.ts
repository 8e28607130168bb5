import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine } from '../machine.js';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame } from './frame.js';
import { DirectNetPort } from './direct-port.js';
import { NetworkFabric } from './link.js';

const VECTOR = 0x44;

function pending(m: Machine, core: number): number[] {
  const out: number[] = [];
  for (let v = m.cores[core]!.apic.nextPending(); v >= 0; v = m.cores[core]!.apic.nextPending()) out.push(v);
  return out;
}

function frameNo(n: number, size = 60): Uint8Array {
  const payload = new Uint8Array(size - 14);
  new DataView(payload.buffer).setUint32(0, n);
  return buildEthernetFrame('02:00:00:00:00:02', '02:00:00:00:00:01', 0x0800, payload);
}

function setup(options: { rxQueueLimit?: number; cores?: number } = {}) {
  const sim = new Simulation({ seed: 1 });
  const m = sim.createMachine({ name: 'gw', cores: options.cores ?? 1, memoryBytes: 1 << 20 });
  const port = new DirectNetPort(sim, m, options.rxQueueLimit === undefined ? {} : { rxQueueLimit: options.rxQueueLimit });
  m.attachDevice(port);
  return { sim, m, port };
}

describe('DirectNetPort', () => {
  it('drops (counted) what arrives before the driver starts it, and runts', () => {
    const { m, port } = setup();
    port.receive(frameNo(1));
    expect(port.stats.rxDroppedNotReady).toBe(1);
    expect(port.take()).toBeUndefined();
    port.start(VECTOR, 0);
    port.receive(new Uint8Array(13));
    expect(port.stats.rxDroppedNotReady).toBe(2);
    expect(pending(m, 0)).toEqual([]);
  });

  it('raises its vector once per empty → non-empty transition, and hands frames over in order', () => {
    const { m, port } = setup();
    port.start(VECTOR, 0);
    port.receive(frameNo(1));
    port.receive(frameNo(2));
    port.receive(frameNo(3));
    expect(port.stats.interrupts).toBe(1);
    expect(pending(m, 0)).toEqual([VECTOR]);
    const got: number[] = [];
    for (let f = port.take(); f !== undefined; f = port.take()) got.push(new DataView(f.buffer, f.byteOffset + 14).getUint32(0));
    expect(got).toEqual([1, 2, 3]);
    port.receive(frameNo(4)); // queue was drained: announced again
    expect(port.stats.interrupts).toBe(2);
    expect(pending(m, 0)).toEqual([VECTOR]);
  });

  it('bounds the receive queue: a frame over the limit is dropped and counted', () => {
    const { port } = setup({ rxQueueLimit: 2 });
    port.start(VECTOR, 0);
    for (let i = 0; i < 5; i++) port.receive(frameNo(i));
    expect(port.rxPending).toBe(2);
    expect(port.stats.rxDroppedQueueFull).toBe(3);
    expect(port.stats.rxFrames).toBe(2);
  });

  it('stops receiving when its machine is powered off', () => {
    const { m, port } = setup();
    port.start(VECTOR, 0);
    m.powerOff();
    port.receive(frameNo(1));
    expect(port.stats.rxDroppedNotReady).toBe(1);
    expect(port.rxPending).toBe(0);
  });

  it('rejects a bad option, a multicast MAC and a core the machine lacks, naming them', () => {
    const { sim, m, port } = setup();
    expect(() => new DirectNetPort(sim, m, { rxQueueLimit: 0 })).toThrow(/rxQueueLimit/);
    expect(() => new DirectNetPort(sim, m, { mac: '01:00:00:00:00:01' })).toThrow(/unicast/);
    expect(() => port.start(VECTOR, 1)).toThrow(/no core 1/);
  });

  it('sends through its link: counted, and counted as lost with no link', async () => {
    const { sim, port } = setup();
    port.send(frameNo(9));
    expect(port.stats.txDroppedNoLink).toBe(1);
    const fabric = new NetworkFabric(sim);
    const seen: Uint8Array[] = [];
    const link = fabric.connect(port, { latencyNs: 1000 });
    fabric.switch.addPort({ receive: (f) => seen.push(f) });
    const f = port.txBuffer(60);
    f.set(frameNo(7));
    port.send(f);
    await sim.run({ untilNs: 10_000 });
    expect(port.stats.txFrames).toBe(2);
    expect(link.counters('aToB').delivered).toBe(1);
    expect(seen.map((x) => new DataView(x.buffer, x.byteOffset + 14).getUint32(0))).toEqual([7]);
  });

  it('txBuffer views never overlap while they are in flight (slab cut, then a new slab)', () => {
    const { port } = setup();
    const bufs: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const b = port.txBuffer(1514);
      b.fill(i & 0xff);
      bufs.push(b);
    }
    bufs.forEach((b, i) => expect(b.every((x) => x === (i & 0xff))).toBe(true));
  });

  it('property: any interleaving of arrivals and takes keeps FIFO order and conserves frames', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant<'rx'>('rx'), fc.constant<'take'>('take')), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (ops, limit) => {
        const { m, port } = setup({ rxQueueLimit: limit });
        port.start(VECTOR, 0);
        let sent = 0;
        const accepted: number[] = [];
        const taken: number[] = [];
        let raises = 0;
        for (const op of ops) {
          if (op === 'rx') {
            const before = port.rxPending;
            port.receive(frameNo(sent));
            if (port.rxPending > before) accepted.push(sent);
            sent++;
          } else {
            const f = port.take();
            if (f !== undefined) taken.push(new DataView(f.buffer, f.byteOffset + 14).getUint32(0));
          }
          raises += pending(m, 0).length;
        }
        expect(taken).toEqual(accepted.slice(0, taken.length));
        expect(port.stats.rxFrames + port.stats.rxDroppedQueueFull).toBe(sent);
        expect(port.stats.rxFrames).toBe(taken.length + port.rxPending);
        // One interrupt per transition from empty: never more than frames, never 0 with frames.
        expect(raises).toBe(port.stats.interrupts);
        expect(port.stats.interrupts <= port.stats.rxFrames).toBe(true);
        if (port.stats.rxFrames > 0) expect(port.stats.interrupts).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});
