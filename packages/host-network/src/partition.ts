import { NETWORK_TRACE_PID, type Prng, type Simulation } from '@ebbrt/hw-x86sim';
import type { PartitionConfig } from '@ebbrt/interfaces';

/** A uniform whole number of ns in [min, max] (a seeded fault's time or length). */
export function drawNs(prng: Prng, window: { readonly min: number; readonly max: number }): number {
  return window.min + Math.floor(prng.nextFloat() * (window.max - window.min + 1));
}

/** One run's drawn partition: which back-ends are cut off, from when, for how long. */
export interface PartitionPlan {
  nodes: number[];
  atNs: number;
  durationNs: number;
}

/**
 * Draws the run's partition from its own stream (`node-faults:partition`, so a config without one
 * makes no draw): whether it happens (`probability`), the cut-off side (`nodes`, default one
 * back-end drawn from `backends`), when it starts and how long it lasts.
 */
export function planPartition(prng: Prng, config: PartitionConfig, backends: readonly number[]): PartitionPlan | undefined {
  if (!prng.chance(config.probability)) return undefined;
  const nodes = config.nodes !== undefined ? [...config.nodes] : backends.length === 0 ? [] : [backends[prng.nextInt(backends.length)]!];
  if (nodes.length === 0) return undefined;
  return { nodes, atNs: drawNs(prng, config.afterNs), durationNs: drawNs(prng, config.durationNs) };
}

/** What a partition schedule does to the network (SimulatedNetwork by node label). */
export interface Partitionable {
  /** Cuts `nodes` off from every other endpoint of the switch (null heals). */
  partitionNodes(nodes: readonly number[] | null): void;
}

/**
 * Schedules the config's partition: at its start the side is cut off on the switch (fault
 * `network.partition`), at its end it heals (fault `network.heal`); frames dropped meanwhile are
 * `network.partition-drop` faults of the switch.
 */
export function schedulePartition(simulation: Simulation, config: PartitionConfig | undefined, backends: readonly number[], network: Partitionable): PartitionPlan | undefined {
  if (config === undefined) return undefined;
  const plan = planPartition(simulation.prng.fork('node-faults:partition'), config, backends);
  if (plan === undefined) return undefined;
  const site = { pid: NETWORK_TRACE_PID, tid: 0 };
  simulation.schedule(plan.atNs, () => {
    simulation.faults.record('network.partition', site, { nodes: plan.nodes.join(','), durationNs: plan.durationNs });
    network.partitionNodes(plan.nodes);
    simulation.scheduleAfter(plan.durationNs, () => {
      simulation.faults.record('network.heal', site, { nodes: plan.nodes.join(',') });
      network.partitionNodes(null);
    });
  });
  return plan;
}
