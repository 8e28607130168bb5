/** The virtio-net device's injected faults, each against the split-ring TestDriver: what it drops, delays or resets, how it is counted and traced, and that a seed replays. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame } from './frame.js';
import { NetworkFabric } from './link.js';
import { VIRTIO_STATUS, VirtioNetDevice, type VirtioNetFaults } from './index.js';
import { RX_VECTOR, TX_VECTOR, TestDriver, pending } from '../../test/virtio-driver.js';

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
