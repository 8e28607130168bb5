/**
 * Test fixtures for the native NetworkManager: native nodes on one seeded Simulation, each with
 * EventManager, Timer, MemoryAllocator (SLQB) and this NetworkManager, plugged into one
 * NetworkFabric (an L2 switch, one impaired Link per NIC).
 */
import { NodeContext, cpu } from '@ebbrt/core-translation';
import { DirectNetPort, Link, NetworkFabric, Simulation, type LinkProps, type Machine, type SteppingMode, type GuestMemoryKind } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EventFn, type EventManagerRoot } from '@ebbrt/interfaces';
import { manifest as emManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { manifest as slqbManifest } from '@ebbrt/memory-allocator-slqb';
import { LwipNetworkManagerRoot, manifest as lwipManifest, type LwipNetworkManager } from '@ebbrt/network-manager-lwip';
import { installEbb, type FixtureContext } from './install-ebb.js';

export interface NetNode {
  machine: Machine;
  node: NodeContext;
  em: EventManagerRoot;
  nm: LwipNetworkManagerRoot;
  link: Link;
  logs: string[];
  /** Queue `fn` as an event on `core` (from outside the node). */
  post(core: number, fn: EventFn): void;
  /** The rep of `core` (only inside an event on that core). */
  rep(): LwipNetworkManager;
}

export interface NetFixture {
  sim: Simulation;
  fabric: NetworkFabric;
  nodes: NetNode[];
  /** Runs `fn` as an event on node `i`, core `core`; run the sim, then read `.value`/`.error`. */
  run<T>(i: number, core: number, fn: () => T | Promise<T>): Outcome<T>;
}

export interface Outcome<T> {
  done: boolean;
  value: T | undefined;
  error: unknown;
}

export interface NetFixtureOptions {
  seed?: number;
  nodes?: number;
  cores?: number;
  memoryBytes?: number;
  link?: Partial<LinkProps>;
  /** Extra NetworkManager options for every node (address is set per node: 10.0.0.<i+1>/24). */
  options?: Record<string, unknown>;
  /** Record the simulation's Chrome trace (`sim.trace`). Default false. */
  trace?: boolean;
  /** Node i's address and prefix. Default `10.0.0.<i+1>/24` (so at most 254 nodes). */
  address?: (i: number) => string;
  /**
   * Nodes plugged in with a ring-less DirectNetPort instead of virtio-net (what the runtime's
   * gateway gets); such a node has 1 core whatever `cores` says. Default: none.
   */
  directPort?: (i: number) => boolean;
  /** The simulation's stepping mode (default `chained`; see hw-x86sim's SteppingMode). */
  stepping?: SteppingMode;
  /** Where machines' guest memory lives (hw-x86sim's SimulationOptions.guestMemory). */
  guestMemory?: GuestMemoryKind;
}

/** A native node without a NIC: EventManager, Timer and SLQB. */
export interface BareNode {
  machine: Machine;
  node: NodeContext;
  em: EventManagerRoot;
  logs: string[];
}

/** Boots node `i` (id i+1) of `sim` up to its allocator: what every fixture node has. */
export function bareNode(sim: Simulation, i: number, cores: number, memoryBytes: number): BareNode {
  const machine = sim.createMachine({ name: `n${i}`, cores, memoryBytes });
  const node = new NodeContext({ id: i + 1, numCores: cores, target: 'native', idSpace: 2 });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const ctx: FixtureContext = { node, target: 'native', machine, simulation: sim, log };
  const em = installEbb('EventManager', emManifest, ctx);
  installEbb('Timer', timerManifest, ctx);
  installEbb('MemoryAllocator', slqbManifest, ctx);
  return { machine, node, em, logs };
}

export function netFixture(opts: NetFixtureOptions = {}): NetFixture {
  const { seed = 1, nodes: count = 2, cores = 2, memoryBytes = 32 * 1024 * 1024 } = opts;
  const address = opts.address ?? ((i: number) => `10.0.0.${i + 1}/24`);
  const sim = new Simulation({ seed, trace: opts.trace ?? false, stepping: opts.stepping ?? 'chained', ...(opts.guestMemory !== undefined ? { guestMemory: opts.guestMemory } : {}) });
  const fabric = new NetworkFabric(sim);
  const nodes: NetNode[] = [];
  for (let i = 0; i < count; i++) {
    const direct = opts.directPort?.(i) ?? false;
    const { machine, node, em, logs } = bareNode(sim, i, direct ? 1 : cores, memoryBytes);
    const port = direct ? new DirectNetPort(sim, machine) : undefined;
    if (port !== undefined) machine.attachDevice(port);
    const nm = lwipRoot(installEbb('NetworkManager', lwipManifest, { node, target: 'native', machine, simulation: sim, log: (line) => logs.push(line) }, { address: address(i), ...opts.options }));
    const link = fabric.connect(port ?? nm.driver.device, { name: `link${i}`, latencyNs: 10_000, ...opts.link });
    nodes.push({
      machine,
      node,
      em,
      nm,
      link,
      logs,
      post: (core, fn) => em.post(core, fn),
      rep: () => {
        const core = node.core(currentIndex());
        return (core.translation.get(SystemEbbIds.NetworkManager) ?? node.fault(SystemEbbIds.NetworkManager, core)) as LwipNetworkManager;
      },
    });
  }
  return {
    sim,
    fabric,
    nodes,
    run<T>(i: number, core: number, fn: () => T | Promise<T>): Outcome<T> {
      const out: Outcome<T> = { done: false, value: undefined, error: undefined };
      nodes[i]!.post(core, async () => {
        try {
          out.value = await fn();
        } catch (e) {
          out.error = e;
        }
        out.done = true;
      });
      return out;
    },
  };
}

/** The lwIP root (this fixture reads its driver and TCP state), or an error naming what was installed instead. */
export function lwipRoot(root: unknown): LwipNetworkManagerRoot {
  if (!(root instanceof LwipNetworkManagerRoot)) throw new TypeError(`the NetworkManager is not @ebbrt/network-manager-lwip's root (got ${String((root as object | null)?.constructor?.name)})`);
  return root;
}

function currentIndex(): number {
  const c = cpu.current;
  if (c === undefined) throw new Error('not on a core');
  return c.index;
}
