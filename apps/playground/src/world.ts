/**
 * A few simulated native nodes on one seeded Simulation, built from the browser-safe packages
 * only: each node has the Event Manager, Timer, SLQB allocator, the lwIP-style stack
 * (10.0.0.<i+1>/24) and the Messenger (port 7000), all on one L2 switch with impaired links.
 * The same code runs under Node (the tests) and in a browser tab (the playground page).
 */
import { NodeContext } from '@ebbrt/core-translation';
import { eventManagerOptionsSchema, manifest as emManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { NetworkFabric, Simulation, type Link, type LinkProps, type Machine } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EbbRoot, type EventFn, type EventManagerRoot, type MemoryAllocatorRoot, type Timer } from '@ebbrt/interfaces';
import { manifest as slqbManifest, slqbOptionsSchema } from '@ebbrt/memory-allocator-slqb';
import { manifest as messengerManifest, type MessengerRoot } from '@ebbrt/messenger';
import { lwipOptionsSchema, manifest as lwipManifest, type LwipNetworkManagerRoot } from '@ebbrt/network-manager-lwip';

export interface WorldNode {
  readonly index: number;
  readonly machine: Machine;
  readonly node: NodeContext;
  readonly em: EventManagerRoot;
  readonly nm: LwipNetworkManagerRoot;
  readonly messenger: MessengerRoot;
  readonly allocator: MemoryAllocatorRoot;
  readonly link: Link;
  readonly logs: string[];
  /** The Ebb implementations installed, by system Ebb name (what the live view lists). */
  readonly ebbs: Record<string, string>;
  post(core: number, fn: EventFn): void;
}

export interface World {
  readonly sim: Simulation;
  readonly fabric: NetworkFabric;
  readonly nodes: readonly WorldNode[];
}

export interface WorldOptions {
  seed: number;
  nodes: number;
  cores: number;
  link: Partial<LinkProps>;
  memoryBytes?: number;
}

export const MESSENGER_PORT = 7000;

export async function createWorld(opts: WorldOptions): Promise<World> {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${String(opts.seed)}`);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 2 || opts.nodes > 16) throw new RangeError(`nodes must be an integer in 2..16, got ${String(opts.nodes)}`);
  const sim = new Simulation({ seed: opts.seed, trace: true });
  const fabric = new NetworkFabric(sim);
  const peers: Record<string, string> = {};
  for (let i = 0; i < opts.nodes; i++) peers[String(i + 1)] = `10.0.0.${i + 1}:${MESSENGER_PORT}`;
  const nodes: WorldNode[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const machine = sim.createMachine({ name: `node${i + 1}`, cores: opts.cores, memoryBytes: opts.memoryBytes ?? 32 * 1024 * 1024 });
    const node = new NodeContext({ id: i + 1, numCores: opts.cores, target: 'native', idSpace: 2 });
    const logs: string[] = [];
    const log = (line: string): void => void logs.push(line);
    const ctx = (id: number) => ({ id, node, target: 'native' as const, machine, simulation: sim, log });
    const em = emManifest.create(ctx(SystemEbbIds.EventManager), eventManagerOptionsSchema.parse({})) as EventManagerRoot;
    node.install(SystemEbbIds.EventManager, em);
    node.install(SystemEbbIds.Timer, timerManifest.create(ctx(SystemEbbIds.Timer), {}) as EbbRoot<Timer>);
    const allocator = slqbManifest.create(ctx(SystemEbbIds.MemoryAllocator), slqbOptionsSchema.parse({})) as MemoryAllocatorRoot;
    node.install(SystemEbbIds.MemoryAllocator, allocator);
    const nm = lwipManifest.create(ctx(SystemEbbIds.NetworkManager), lwipOptionsSchema.parse({ address: `10.0.0.${i + 1}/24`, tcpMslUs: 100_000 })) as LwipNetworkManagerRoot;
    node.install(SystemEbbIds.NetworkManager, nm);
    const link = fabric.connect(nm.driver.device, { name: `link${i + 1}`, ...opts.link });
    const messenger = (await messengerManifest.create(
      { id: SystemEbbIds.Messenger, node, target: 'native', log },
      messengerManifest.options!.parse({ peers, port: MESSENGER_PORT }),
    )) as MessengerRoot;
    node.install(SystemEbbIds.Messenger, messenger);
    nodes.push({
      index: i,
      machine,
      node,
      em,
      nm,
      messenger,
      allocator,
      link,
      logs,
      ebbs: {
        EventManager: '@ebbrt/event-manager',
        Timer: '@ebbrt/event-manager/timer',
        MemoryAllocator: '@ebbrt/memory-allocator-slqb',
        NetworkManager: '@ebbrt/network-manager-lwip',
        Messenger: '@ebbrt/messenger',
      },
      post: (core, fn) => em.post(core, fn),
    });
  }
  return { sim, fabric, nodes };
}
