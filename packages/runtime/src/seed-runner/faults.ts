/**
 * The faults a seed search switches: the ones the app's config turns on. Each is a named switch;
 * a run keeps the configured value of the switches that are on and removes the rest, so what a
 * fault does is configured (and validated) where it always was, in the config.
 *
 * Where faults live in a config is one table, FAULT_FAMILIES: a family is an object in the config
 * whose keys are faults, read by a typed getter and taken out by a typed remover. A new kind of
 * fault joins the swarm, the shrinker and `--faults` by adding its family here; nothing else in
 * the runner names a fault. The removers copy the validated config along the way rather than
 * re-parse it: the schema's transforms do not round-trip (a parsed config is not valid input).
 */
import type { AppConfig } from '@ebbrt/interfaces';
import { Prng } from '@ebbrt/hw-x86sim';

/** A family's object: fault names to their configured values (and, with `keys`, other settings). */
export type FaultObject = Readonly<Record<string, unknown>>;

export interface FaultFamily {
  /** The switches' prefix: `link` makes `link.loss`. */
  readonly prefix: string;
  /** The family's object in the validated config, if the config has one. */
  readonly faults: (config: AppConfig) => FaultObject | undefined;
  /**
   * Which of the object's keys are faults, in catalogue order; the rest are settings kept as they
   * are (a link's latency). Without it every key is a fault, in sorted order.
   */
  readonly keys?: readonly string[];
  /** Whether a configured value turns the fault on (default: present, and not 0 or false). */
  readonly isOn?: (value: unknown) => boolean;
  /** A copy of `config` without the family's faults `off` (only the objects along the way are new). */
  readonly remove: (config: AppConfig, off: readonly string[]) => AppConfig;
}

/** A copy of `obj` without the keys `off`. */
export function omitKeys<T extends Record<string, unknown>>(obj: T, off: readonly string[]): T {
  const out = { ...obj };
  for (const k of off) delete out[k];
  return out;
}

const offloadFamily = (service: 'fileSystem' | 'globalIdMap'): FaultFamily => ({
  prefix: `offload.${service}`,
  faults: (c) => c.faults?.offload?.[service],
  keys: ['delay', 'fail'],
  remove: (c, off) => {
    const offload = c.faults?.offload;
    const plan = offload?.[service];
    if (plan === undefined) return c;
    return { ...c, faults: { ...c.faults, offload: { ...offload, [service]: omitKeys(plan, off) } } };
  },
});

/** Every family of swarmable faults, in catalogue order. Add a family here to make it swarmable. */
export const FAULT_FAMILIES: readonly FaultFamily[] = [
  {
    prefix: 'link',
    faults: (c) => c.network?.link,
    keys: ['loss', 'duplicate', 'reorder', 'corrupt'],
    remove: (c, off) => (c.network === undefined ? c : { ...c, network: { ...c.network, link: omitKeys(c.network.link, off) } }),
  },
  {
    prefix: 'nic',
    faults: (c) => c.network?.nic.faults,
    remove: (c, off) => {
      const nic = c.network?.nic;
      if (c.network === undefined || nic?.faults === undefined) return c;
      return { ...c, network: { ...c.network, nic: { ...nic, faults: omitKeys(nic.faults, off) } } };
    },
  },
  {
    prefix: 'core',
    faults: (c) => c.backend?.machine.faults,
    keys: ['interruptDelay', 'stall', 'clock'],
    remove: (c, off) => {
      const b = c.backend;
      if (b?.machine.faults === undefined) return c;
      return { ...c, backend: { ...b, machine: { ...b.machine, faults: omitKeys(b.machine.faults, off) } } };
    },
  },
  {
    prefix: 'node',
    faults: (c) => c.backend?.faults,
    keys: ['crash'],
    remove: (c, off) => {
      const b = c.backend;
      if (b?.faults === undefined) return c;
      return { ...c, backend: { ...b, faults: omitKeys(b.faults, off) } };
    },
  },
  {
    prefix: 'network',
    faults: (c) => c.network,
    keys: ['partition'],
    remove: (c, off) => (c.network === undefined ? c : { ...c, network: omitKeys(c.network, off) }),
  },
  offloadFamily('fileSystem'),
  offloadFamily('globalIdMap'),
];

const on = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== 0;

/** The family's faults the config turns on, without the prefix. */
function familyFaults(config: AppConfig, family: FaultFamily): string[] {
  const obj = family.faults(config);
  if (obj === undefined) return [];
  const keys = family.keys ?? Object.keys(obj).sort();
  return keys.filter((k) => (family.isOn ?? on)(obj[k]));
}

/** The fault names the config turns on, in a stable order (`link.loss`, `nic.interruptLoss`, ...). */
export function faultCatalogue(config: AppConfig, families: readonly FaultFamily[] = FAULT_FAMILIES): string[] {
  return families.flatMap((f) => familyFaults(config, f).map((k) => `${f.prefix}.${k}`));
}

/** The config with only the `on` faults left switched on. Throws naming a fault the config lacks. */
export function withFaults(config: AppConfig, onNames: readonly string[], families: readonly FaultFamily[] = FAULT_FAMILIES): AppConfig {
  const known = faultCatalogue(config, families);
  for (const name of onNames) {
    if (!known.includes(name)) throw new Error(`--faults: "${name}" is not a fault this config turns on (it has: ${known.join(', ') || 'none'})`);
  }
  let out = config;
  for (const family of families) {
    const off = familyFaults(config, family).filter((k) => !onNames.includes(`${family.prefix}.${k}`));
    if (off.length > 0) out = family.remove(out, off);
  }
  return out;
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
