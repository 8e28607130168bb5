/**
 * The faults a seed search switches: the ones the app's config turns on (its network link's loss,
 * duplication, reordering and corruption, its NICs' virtio-net faults, its machines' core faults,
 * its node crash `node.crash`, its partition `network.partition`). Each is a named switch;
 * a run keeps the configured value of the switches that are on and zeroes the rest, so what a
 * fault does is configured (and validated) where it always was, in the config.
 */
import type { AppConfig } from '@ebbrt/interfaces';
import { Prng } from '@ebbrt/hw-x86sim';

const LINK_FAULTS = ['loss', 'duplicate', 'reorder', 'corrupt'] as const;
const CORE_FAULTS = ['interruptDelay', 'stall', 'clock'] as const;

/** The fault names the config turns on, in a stable order (`link.loss`, `nic.interruptLoss`, ...). */
export function faultCatalogue(config: AppConfig): string[] {
  const names: string[] = [];
  const link = config.network?.link;
  if (link !== undefined) for (const k of LINK_FAULTS) if ((link[k] ?? 0) > 0) names.push(`link.${k}`);
  const nic = config.network?.nic.faults;
  if (nic !== undefined) for (const k of Object.keys(nic).sort()) names.push(`nic.${k}`);
  const core = config.backend?.machine.faults;
  if (core !== undefined) for (const k of CORE_FAULTS) if (core[k] !== undefined) names.push(`core.${k}`);
  if (config.backend?.faults?.crash !== undefined) names.push('node.crash');
  if (config.network?.partition !== undefined) names.push('network.partition');
  return names;
}

/** The config with only the `on` faults left switched on. Throws naming a fault the config lacks. */
export function withFaults(config: AppConfig, on: readonly string[]): AppConfig {
  const known = faultCatalogue(config);
  for (const name of on) {
    if (!known.includes(name)) throw new Error(`--faults: "${name}" is not a fault this config turns on (it has: ${known.join(', ') || 'none'})`);
  }
  const backend = config.backend;
  if (backend?.machine.faults !== undefined) {
    const core = { ...backend.machine.faults };
    for (const k of CORE_FAULTS) if (!on.includes(`core.${k}`)) delete core[k];
    config = { ...config, backend: { ...backend, machine: { ...backend.machine, faults: core } } };
  }
  const nodeFaults = config.backend?.faults;
  if (nodeFaults?.crash !== undefined && !on.includes('node.crash')) {
    const { crash: _crash, ...rest } = nodeFaults;
    config = { ...config, backend: { ...config.backend!, faults: rest } };
  }
  const network = config.network;
  if (network === undefined) return config;
  const link = { ...network.link };
  for (const k of LINK_FAULTS) if (!on.includes(`link.${k}`)) delete link[k];
  const nicFaults = network.nic.faults === undefined ? undefined : Object.fromEntries(Object.entries(network.nic.faults).filter(([k]) => on.includes(`nic.${k}`)));
  const { partition, ...rest } = network;
  const kept = partition !== undefined && on.includes('network.partition') ? { partition } : {};
  return { ...config, network: { ...rest, ...kept, link, nic: nicFaults === undefined ? {} : { faults: nicFaults } } };
}

/**
 * Swarm testing: each seed switches on a random subset of the catalogue (each fault with
 * probability 1/2), drawn from its own stream of the seed so the subset is part of the replay.
 * A seed that would get no fault at all gets one, so every run tests something.
 */
export function swarmFaults(seed: number, catalogue: readonly string[]): string[] {
  if (catalogue.length === 0) return [];
  const prng = new Prng(seed).fork('seed-runner:swarm');
  const on = catalogue.filter(() => prng.nextFloat() < 0.5);
  if (on.length === 0) on.push(catalogue[Math.floor(prng.nextFloat() * catalogue.length)]!);
  return on;
}
