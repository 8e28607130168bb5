import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, formatMac, type FramePort } from './frame.js';
import { Link, NetworkFabric } from './link.js';

/** A plain endpoint recording (time, frame) and able to send once attached. */
class Host implements FramePort {
  readonly got: Array<{ t: number; frame: Uint8Array }> = [];
  tx: FramePort | null = null;
  constructor(
    readonly sim: Simulation,
    readonly mac: string,
  ) {}
  attach(tx: FramePort): void {
    this.tx = tx;
  }
  receive(frame: Uint8Array): void {
    this.got.push({ t: this.sim.now(), frame });
  }
  send(dst: string, payload: Uint8Array | number[] = [1, 2, 3]): void {
    this.tx!.receive(buildEthernetFrame(dst, this.mac, 0x88b5, Uint8Array.from(payload)));
  }
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';

describe('L2Switch via NetworkFabric', () => {
  it('floods unknown unicast, then forwards unicast once learned; broadcast always floods', async () => {
    const sim = new Simulation();
    const fab = new NetworkFabric(sim);
    const [a, b, c] = [A, B, C].map((m) => new Host(sim, m));
    for (const h of [a, b, c]) fab.connect(h);
    a.send(B); // unknown: flood to b and c
    await sim.run();
    expect([a.got.length, b.got.length, c.got.length]).toEqual([0, 1, 1]);
    b.send(A); // a learned: only a
    await sim.run();
    expect([a.got.length, b.got.length, c.got.length]).toEqual([1, 1, 1]);
    a.send(B); // b learned: only b
    await sim.run();
    expect([a.got.length, b.got.length, c.got.length]).toEqual([1, 2, 1]);
    c.send('ff:ff:ff:ff:ff:ff');
    await sim.run();
    expect([a.got.length, b.got.length, c.got.length]).toEqual([2, 3, 1]);
    expect(fab.switch.macTable()).toEqual(
      new Map([
        [A, 0],
        [B, 1],
        [C, 2],
      ]),
    );
    expect(fab.switch.stats).toEqual({ received: 4, unicast: 2, flooded: 2, filtered: 0, partitioned: 0 });
    expect(formatMac(b.got[1].frame, 6)).toBe(A);
  });

  it('disconnect unplugs a link: its endpoint gets nothing more, its address is forgotten, and it cannot send', async () => {
    const sim = new Simulation();
    const fab = new NetworkFabric(sim);
    const [a, b, c] = [A, B, C].map((m) => new Host(sim, m));
    const links = [a, b, c].map((h) => fab.connect(h));
    b.send(A);
    c.send(A);
    await sim.run();
    expect(fab.switch.macTable().has(B)).toBe(true);
    b.got.length = 0;
    c.got.length = 0;
    fab.disconnect(links[1]!);
    expect(fab.links).toHaveLength(2);
    expect(fab.switch.macTable().has(B)).toBe(false);
    a.send(B); // unknown again: flooded, but the unplugged port gets nothing
    a.send('ff:ff:ff:ff:ff:ff');
    b.send(C);
    await sim.run();
    expect(b.got).toHaveLength(0);
    expect(c.got).toHaveLength(2);
    fab.disconnect(links[1]!); // idempotent
  });

  it('latency moves virtual time exactly (two hops)', async () => {
    const sim = new Simulation();
    const fab = new NetworkFabric(sim);
    const a = new Host(sim, A);
    const b = new Host(sim, B);
    fab.connect(a, { latencyNs: 5_000 });
    fab.connect(b, { latencyNs: 7_000 });
    a.send(B);
    const r = await sim.run();
    expect(b.got.map((g) => g.t)).toEqual([12_000]);
    expect(r.finalTimeNs).toBe(12_000);
  });

  it('bandwidth serializes frames one after another', async () => {
    const sim = new Simulation();
    const a = new Host(sim, A);
    const b = new Host(sim, B);
    // 1 Gb/s: a 1250-byte frame takes 10 µs on the wire.
    const link = new Link(sim, 'l', a, b, { latencyNs: 1_000, bandwidthBps: 1e9 });
    a.attach(link.a);
    for (let i = 0; i < 3; i++) a.send(B, new Array(1250 - 14).fill(i));
    sim.scheduleAfter(50_000, () => a.send(B, new Array(1250 - 14).fill(9))); // idle link: no queueing
    await sim.run();
    expect(b.got.map((g) => g.t)).toEqual([11_000, 21_000, 31_000, 61_000]);
    expect(b.got.map((g) => g.frame[14])).toEqual([0, 1, 2, 9]);
  });

  it('partition drops everything, then heals; props are per direction', async () => {
    const sim = new Simulation();
    const a = new Host(sim, A);
    const b = new Host(sim, B);
    const link = new Link(sim, 'p', a, b, { latencyNs: 100 });
    a.attach(link.a);
    b.attach(link.b);
    link.setProps({ partitioned: true }, 'aToB');
    for (let i = 0; i < 5; i++) a.send(B);
    b.send(A);
    await sim.run();
    expect(b.got.length).toBe(0);
    expect(a.got.length).toBe(1);
    expect(link.counters('aToB')).toMatchObject({ sent: 5, lost: 5, delivered: 0 });
    link.setProps({ partitioned: false });
    a.send(B);
    await sim.run();
    expect(b.got.length).toBe(1);
    expect(link.totals()).toMatchObject({ sent: 7, delivered: 2, lost: 5 });
    expect(() => link.setProps({ loss: 2 })).toThrow(/loss/);
  });

  function impairedRun(seed: number, n: number) {
    const sim = new Simulation({ seed });
    const a = new Host(sim, A);
    const b = new Host(sim, B);
    const link = new Link(sim, 'lossy', a, b, {
      latencyNs: 1_000,
      loss: 0.1,
      duplicate: 0.05,
      reorder: 0.1,
      reorderDelayNs: 5_000,
      corrupt: 0.05,
    });
    a.attach(link.a);
    for (let i = 0; i < n; i++) {
      sim.schedule(i * 1_000, () => a.send(B, [i & 0xff, i >> 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    }
    return { sim, b, link };
  }

  it('loss/dup/reorder/corrupt rates are near the configured values and deterministic per seed', async () => {
    const n = 10_000;
    const r1 = impairedRun(7, n);
    await r1.sim.run();
    const c = r1.link.counters('aToB');
    expect(c.sent).toBe(n);
    expect(c.lost / n).toBeCloseTo(0.1, 1);
    expect(Math.abs(c.lost / n - 0.1)).toBeLessThan(0.015);
    const survivors = n - c.lost;
    expect(Math.abs(c.duplicated / survivors - 0.05)).toBeLessThan(0.015);
    expect(Math.abs(c.reordered / survivors - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(c.corrupted / survivors - 0.05)).toBeLessThan(0.015);
    expect(c.delivered).toBe(survivors + c.duplicated);
    expect(r1.b.got.length).toBe(c.delivered);
    // Reordering really reorders: some sequence numbers arrive after larger ones.
    const seqs = r1.b.got.map((g) => g.frame[14] | (g.frame[15] << 8));
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) inversions++;
    expect(inversions).toBeGreaterThan(0);
    // Corruption flips exactly one byte of a copy: count frames whose padding is non-zero or that differ.
    const sig = (r: ReturnType<typeof impairedRun>) => r.b.got.map((g) => `${g.t}:${Buffer.from(g.frame).toString('hex')}`);
    const r2 = impairedRun(7, n);
    await r2.sim.run();
    expect(sig(r2)).toEqual(sig(r1));
    const r3 = impairedRun(8, n);
    await r3.sim.run();
    expect(sig(r3)).not.toEqual(sig(r1));
  });
});
