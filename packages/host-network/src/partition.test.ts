import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng, Simulation } from '@ebbrt/hw-x86sim';
import { networkSchema, partitionSchema } from '@ebbrt/interfaces';
import { planPartition, schedulePartition } from './partition.js';
import { SimulatedNetwork } from './simulated-network.js';

const window = fc.tuple(fc.nat(1_000_000), fc.nat(1_000_000)).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }));

describe('planPartition', () => {
  it('property: the start and the length lie in their windows, the side is the configured nodes or one back-end, and the seed decides it all', () => {
    fc.assert(
      fc.property(fc.nat(), window, window, fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1 }), { nil: undefined }), (seed, afterNs, durationWindow, nodes) => {
        const duration = { min: Math.max(1, durationWindow.min), max: Math.max(1, durationWindow.max) };
        const config = partitionSchema.parse({ afterNs, durationNs: duration, ...(nodes !== undefined ? { nodes } : {}) });
        const plan = planPartition(new Prng(seed), config, [1, 2, 3, 4])!;
        expect(plan.atNs).toBeGreaterThanOrEqual(afterNs.min);
        expect(plan.atNs).toBeLessThanOrEqual(afterNs.max);
        expect(plan.durationNs).toBeGreaterThanOrEqual(duration.min);
        expect(plan.durationNs).toBeLessThanOrEqual(duration.max);
        if (nodes !== undefined) expect(plan.nodes).toEqual(nodes);
        else expect(plan.nodes).toHaveLength(1);
        expect(planPartition(new Prng(seed), config, [1, 2, 3, 4])).toEqual(plan);
      }),
    );
  });

  it('probability 0 never partitions, and neither does a run with no back-ends to cut', () => {
    const never = partitionSchema.parse({ probability: 0, afterNs: { min: 0, max: 9 }, durationNs: { min: 1, max: 9 } });
    for (let seed = 1; seed <= 20; seed++) expect(planPartition(new Prng(seed), never, [1, 2])).toBeUndefined();
    const always = partitionSchema.parse({ afterNs: { min: 0, max: 9 }, durationNs: { min: 1, max: 9 } });
    expect(planPartition(new Prng(1), always, [])).toBeUndefined();
  });
});

describe('schedulePartition', () => {
  it('cuts at the drawn start and heals after the drawn length, recording both; no config, no draw', async () => {
    const sim = new Simulation({ seed: 3 });
    const calls: Array<[number, readonly number[] | null]> = [];
    const config = partitionSchema.parse({ nodes: [2], afterNs: { min: 1_000, max: 5_000 }, durationNs: { min: 7_000, max: 7_000 } });
    const plan = schedulePartition(sim, config, [1, 2], { partitionNodes: (n) => calls.push([sim.now(), n]) })!;
    await sim.run();
    expect(calls).toEqual([
      [plan.atNs, [2]],
      [plan.atNs + 7_000, null],
    ]);
    expect(sim.faults.counts()).toEqual({ 'network.heal': 1, 'network.partition': 1 });
    expect(schedulePartition(new Simulation({ seed: 3 }), undefined, [1, 2], { partitionNodes: () => calls.push([0, null]) })).toBeUndefined();
    expect(calls).toHaveLength(2);
  });
});

describe('SimulatedNetwork.partitionNodes', () => {
  it('cuts a node by id; a node re-attached during the partition (restarted) is cut again; null heals', () => {
    const sim = new Simulation({ seed: 1 });
    const net = new SimulatedNetwork(sim, networkSchema.parse({}), '/tmp');
    const machine = (name: string) => sim.createMachine({ name, cores: 1, memoryBytes: 1 << 20 });
    net.attach(machine('node1'), 'node1');
    net.attach(machine('node2'), 'node2');
    const port = (label: string) => net.fabric.portOf(net.link(label)!)!;
    net.partitionNodes([2]);
    expect(net.fabric.switch.partitionedPorts).toEqual([port('node2')]);
    net.detach('node2');
    net.attach(machine('node2b'), 'node2');
    expect(net.fabric.switch.partitionedPorts).toEqual([port('node2')]);
    net.partitionNodes(null);
    expect(net.fabric.switch.partitionedPorts).toEqual([]);
  });
});
