import { drawNs } from '@ebbrt/host-network';
import type { Prng, Simulation } from '@ebbrt/hw-x86sim';
import type { NodeFaultsConfig } from '@ebbrt/interfaces';

/** What the node-fault schedule needs of the nodes booted in this process (LocalNodes). */
export interface CrashableNodes {
  /** Crashes the node now; false if it was not running. */
  crash(networkId: number): boolean;
  /** Restarts a crashed node under its old identity. */
  restart(networkId: number): Promise<void>;
}

/** One run's drawn crash: which node, when, and for how long (undefined: it stays down). */
export interface CrashPlan {
  node: number;
  atNs: number;
  downNs: number | undefined;
}

/**
 * Draws the run's crash from the seed's `node-faults:crash` stream (a stream of its own, so a
 * config without node faults makes no draw and its traces do not change): whether it happens at
 * all (`probability`), which of `nodes` (default: every back-end), when, and how long it is down.
 */
export function planCrash(prng: Prng, crash: NonNullable<NodeFaultsConfig['crash']>, backends: readonly number[]): CrashPlan | undefined {
  if (!prng.chance(crash.probability)) return undefined;
  const candidates = crash.nodes ?? backends;
  if (candidates.length === 0) return undefined;
  const node = candidates[prng.nextInt(candidates.length)]!;
  const atNs = drawNs(prng, crash.afterNs);
  const downNs = crash.downNs === undefined ? undefined : drawNs(prng, crash.downNs);
  return { node, atNs, downNs };
}

/**
 * Schedules the config's node faults (`backend.faults`) in the simulation: the crash at its
 * drawn time, as a hardware event, and the restart `downNs` later. A restart that fails is
 * reported through `failed` (the run's failures), naming the node.
 */
export function scheduleNodeFaults(
  simulation: Simulation,
  faults: NodeFaultsConfig | undefined,
  backends: readonly number[],
  nodes: CrashableNodes,
  failed: (node: number, error: unknown) => void,
): CrashPlan | undefined {
  const crash = faults?.crash;
  if (crash === undefined) return undefined;
  const plan = planCrash(simulation.prng.fork('node-faults:crash'), crash, backends);
  if (plan === undefined) return undefined;
  simulation.schedule(plan.atNs, () => {
    if (!nodes.crash(plan.node) || plan.downNs === undefined) return;
    simulation.scheduleAfter(plan.downNs, () => {
      nodes.restart(plan.node).catch((error: unknown) => failed(plan.node, error));
    });
  });
  return plan;
}
