import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { buildEthernetFrame, type FramePort } from './frame.js';
import { NetworkFabric } from './link.js';

/** A plain endpoint recording the first payload byte of what it gets. */
class Host implements FramePort {
  readonly got: number[] = [];
  tx: FramePort | null = null;
  constructor(readonly mac: string) {}
  attach(tx: FramePort): void {
    this.tx = tx;
  }
  receive(frame: Uint8Array): void {
    this.got.push(frame[14]!);
  }
  send(dst: string, tag: number): void {
    this.tx!.receive(buildEthernetFrame(dst, this.mac, 0x88b5, Uint8Array.from([tag, 0, 0])));
  }
}

const MACS = ['02:00:00:00:00:0a', '02:00:00:00:00:0b', '02:00:00:00:00:0c'];
const BCAST = 'ff:ff:ff:ff:ff:ff';

/** Three hosts on one switch, each one's address already learned (so unicast is not flooded). */
async function threeHosts(seed = 1) {
  const sim = new Simulation({ seed });
  const fab = new NetworkFabric(sim);
  const hosts = MACS.map((m) => new Host(m));
  const links = hosts.map((h) => fab.connect(h, { latencyNs: 1_000 }));
  for (const h of hosts) h.send(BCAST, 0);
  await sim.run();
  for (const h of hosts) h.got.length = 0;
  return { sim, fab, hosts, ports: links.map((l) => fab.portOf(l)!) };
}

describe('L2Switch.partition', () => {
  it('drops and counts every frame copy that crosses the cut, passes frames within a side, and heals', async () => {
    const { sim, fab, hosts, ports } = await threeHosts();
    const [a, b, c] = hosts as [Host, Host, Host];
    const before = { ...fab.switch.stats };
    fab.switch.partition([ports[2]!]); // c alone on one side; a and b on the other
    expect(fab.switch.partitionedPorts).toEqual([ports[2]]);
    a.send(MACS[2]!, 1); // crosses: dropped
    c.send(MACS[0]!, 2); // crosses the other way: dropped
    a.send(MACS[1]!, 3); // same side: passes
    b.send(BCAST, 4); // flooded: reaches a, not c
    c.send(BCAST, 5); // flooded from the cut side: reaches nobody
    await sim.run();
    expect([a.got, b.got, c.got]).toEqual([[4], [3], []]);
    // One per crossing copy: two unicasts, one flood copy (b -> c), two flood copies (c -> a, b).
    expect(fab.switch.stats.partitioned - before.partitioned).toBe(5);
    expect(sim.faults.count('network.partition-drop')).toBe(5);
    expect(sim.faults.counts(0)).toEqual({ 'network.partition-drop': 5 });

    fab.switch.partition(null);
    expect(fab.switch.partitionedPorts).toEqual([]);
    a.send(MACS[2]!, 6);
    c.send(MACS[0]!, 7);
    b.send(BCAST, 8);
    await sim.run();
    expect([a.got, b.got, c.got]).toEqual([[4, 7, 8], [3], [6, 8]]);
    expect(fab.switch.stats.partitioned - before.partitioned).toBe(5);
    expect(sim.faults.count('network.partition-drop')).toBe(5);
  });

  it('keeps learning while partitioned: an address first seen then is reached without flooding after the heal', async () => {
    const sim = new Simulation({ seed: 1 });
    const fab = new NetworkFabric(sim);
    const hosts = MACS.map((m) => new Host(m));
    const links = hosts.map((h) => fab.connect(h));
    const [a, b, c] = hosts as [Host, Host, Host];
    fab.switch.partition([fab.portOf(links[0]!)!]);
    a.send(BCAST, 1); // a's address is learned, though the flood reaches nobody
    await sim.run();
    expect(fab.switch.macTable().get(MACS[0]!)).toBe(0);
    fab.switch.partition(null);
    const flooded = fab.switch.stats.flooded;
    c.send(MACS[0]!, 2);
    await sim.run();
    expect([a.got, b.got, c.got]).toEqual([[2], [], []]);
    expect(fab.switch.stats.flooded).toBe(flooded);
  });

  it('marks each drop in the trace, and the same seed gives the same trace', async () => {
    const run = async () => {
      const sim = new Simulation({ seed: 7, trace: true });
      const fab = new NetworkFabric(sim);
      const hosts = MACS.map((m) => new Host(m));
      const links = hosts.map((h) => fab.connect(h, { latencyNs: 1_000, loss: 0.2 }));
      fab.switch.partition([fab.portOf(links[1]!)!]);
      for (let i = 0; i < 40; i++) sim.schedule(i * 500, () => hosts[i % 3]!.send(MACS[(i + 1) % 3]!, i));
      sim.schedule(12_000, () => fab.switch.partition(null));
      await sim.run();
      return { trace: sim.trace.toJSON(), drops: sim.faults.count('network.partition-drop'), got: hosts.map((h) => h.got) };
    };
    const one = await run();
    const two = await run();
    expect(one.drops).toBeGreaterThan(0);
    expect(one.trace).toContain('fault: network.partition-drop');
    expect(two).toEqual(one);
  });
});
