/**
 * The faults a seed search switches: the ones the app's config turns on. Each is a named switch;
 * a run keeps the configured value of the switches that are on and removes the rest, so what a
 * fault does is configured (and validated) where it always was, in the config.
 *
 * Where faults live in a config is one table, FAULT_FAMILIES: a family is an object in the config
 * (found by its path) whose keys are faults. A new kind of fault joins the swarm, the shrinker and
 * `--faults` by adding its family here (one line); nothing else in the runner names a fault.
 */
import type { AppConfig } from '@ebbrt/interfaces';
import { Prng } from '@ebbrt/hw-x86sim';

export interface FaultFamily {
  /** The switches' prefix: `link` makes `link.loss`. */
  readonly prefix: string;
  /** Where the family's object is in the validated config, e.g. `['network', 'nic', 'faults']`. */
  readonly path: readonly string[];
  /**
   * Which of the object's keys are faults, in catalogue order; the rest are settings kept as they
   * are (a link's latency). Without it every key is a fault, in sorted order.
   */
  readonly keys?: readonly string[];
  /** Whether a configured value turns the fault on (default: present, and not 0 or false). */
  readonly isOn?: (value: unknown) => boolean;
}

/** Every family of swarmable faults, in catalogue order. Add a family here to make it swarmable. */
export const FAULT_FAMILIES: readonly FaultFamily[] = [
  { prefix: 'link', path: ['network', 'link'], keys: ['loss', 'duplicate', 'reorder', 'corrupt'] },
  { prefix: 'nic', path: ['network', 'nic', 'faults'] },
  { prefix: 'core', path: ['backend', 'machine', 'faults'], keys: ['interruptDelay', 'stall', 'clock'] },
  { prefix: 'node', path: ['backend', 'faults'], keys: ['crash'] },
  { prefix: 'network', path: ['network'], keys: ['partition'] },
  { prefix: 'offload.fileSystem', path: ['faults', 'offload', 'fileSystem'], keys: ['delay', 'fail'] },
  { prefix: 'offload.globalIdMap', path: ['faults', 'offload', 'globalIdMap'], keys: ['delay', 'fail'] },
];

const on = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== 0;

function at(config: unknown, path: readonly string[]): Record<string, unknown> | undefined {
  let v = config;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/** The family's faults the config turns on, without the prefix. */
function familyFaults(config: AppConfig, family: FaultFamily): string[] {
  const obj = at(config, family.path);
  if (obj === undefined) return [];
  const keys = family.keys ?? Object.keys(obj).sort();
  return keys.filter((k) => (family.isOn ?? on)(obj[k]));
}

/** A copy of `value` with the object at `path` replaced (only the objects along the path are copied). */
function replaced(value: Record<string, unknown>, path: readonly string[], make: (obj: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined) return make(value);
  const child = value[key];
  if (typeof child !== 'object' || child === null) return value;
  return { ...value, [key]: replaced(child as Record<string, unknown>, rest, make) };
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
  let out = config as unknown as Record<string, unknown>;
  for (const family of families) {
    const off = familyFaults(config, family).filter((k) => !onNames.includes(`${family.prefix}.${k}`));
    if (off.length === 0) continue;
    out = replaced(out, family.path, (obj) => Object.fromEntries(Object.entries(obj).filter(([k]) => !off.includes(k))));
  }
  return out as unknown as AppConfig;
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
