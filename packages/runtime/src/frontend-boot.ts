import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EbbRef } from '@ebbrt/core-translation';
import { serveGlobalIdMap } from '@ebbrt/global-id-map';
import { AppNetwork, FrontendBridge, schedulePartition } from '@ebbrt/host-network';
import { Simulation, type ClockKind, type GuestMemoryKind, type MemoryRecycler } from '@ebbrt/hw-x86sim';
import {
  ConfigError,
  NodeAllocationError,
  SystemEbbIds,
  type AppConfig,
  type EventFailure,
  type ManagedPlatform,
  type NodeAllocator,
  type NodePlatform,
  type PlatformHost,
  type SystemInterfaceName,
} from '@ebbrt/interfaces';
import { appContext, type AppContext, type AppMain } from './app-context.js';
import { directBackends, type BackendProvider } from './boot/backend-provider.js';
import { bootBackend, bootGateway, DEFAULT_FILE_SYSTEM, DEFAULT_GLOBAL_ID_MAP, DEFAULT_MESSENGER, type BackendBootDeps } from './boot/backend-boot.js';
import { bootNode, verifyNode, type BootedNode } from './boot/boot-node.js';
import { loadEntry } from './boot/load-entry.js';
import { LocalNodes } from './boot/local-nodes.js';
import { scheduleNodeFaults } from './boot/node-faults.js';
import { loadConfig } from './config/load-config.js';
import { MessengerLink } from './platform/messenger-link.js';
import { nodeAgentCommand } from './platform/node-agent.js';
import type { ResolveOptions } from './resolve/load-manifest.js';
import { loadPlatform } from './resolve/load-platform.js';
import { ModuleCache } from './resolve/module-cache.js';

/** The front-end's NodeAllocator when the config names none and there are back-ends. */
const DEFAULT_NODE_ALLOCATOR = '@ebbrt/node-allocator';
const HOSTED_NETWORK_MANAGER = '@ebbrt/network-manager-hosted';
const RUNTIME_DIR = dirname(fileURLToPath(import.meta.url));
/** Running from .ts sources means a TypeScript loader is active: load workspace packages from source too. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** What booting the front-end takes besides the app's directory (a subset of RunAppOptions). */
export interface FrontEndOptions {
  seed?: number;
  clock?: ClockKind;
  trace?: boolean;
  output?: (line: string) => void;
  signal?: AbortSignal;
  backends?: BackendProvider;
  configFile?: string;
  resolveFrom?: readonly string[];
  /** Rewrites the validated config before anything boots (the seed runner switches faults with it). */
  configOverride?: (config: AppConfig) => AppConfig;
  /** Modules imported once for this run (the default) or, given, kept for the owner's later runs. */
  modules?: ModuleCache;
  /** Machines' memory from this recycler (the seed runner's; it recycles the run's memory after). */
  memory?: MemoryRecycler;
  /** Where machines' guest memory lives (SimulationOptions.guestMemory; default shared on Node). */
  guestMemory?: GuestMemoryKind;
  /**
   * The front-end's files (the FileSystem the back-ends offload to): `disk`, the app's directory
   * itself (the default), or `memory`, a copy-on-write view of it private to this run (reads see
   * the disk, writes vanish with the run). The seed runner asks for `memory`: its seeds run side by
   * side in one app directory and each must depend on its seed alone. It overrides the config's
   * `io` for the default FileSystem package.
   */
  files?: 'disk' | 'memory';
}

/** A booted front-end: its node, the simulation, the network and platform, and the back-ends it allocated. */
export interface FrontEnd {
  readonly dir: string;
  readonly config: AppConfig;
  /** This run's imports (FrontEndOptions.modules, or the run's own). */
  readonly modules: ModuleCache;
  readonly clock: ClockKind;
  readonly simulation: Simulation;
  readonly output: (line: string) => void;
  readonly frontend: BootedNode;
  readonly network: AppNetwork | undefined;
  readonly platform: ManagedPlatform;
  /** Where the platform puts nodes: this process's simulation, or processes of their own. */
  readonly placement: 'local' | 'remote';
  /** The back-ends booted in this process (none when the platform places nodes elsewhere). */
  readonly backends: readonly BootedNode[];
  /** Each configured back-end's network id, once it has reported back. */
  readonly backendsUp: readonly Promise<number>[];
  readonly failures: EventFailure[];
  readonly bootMs: Map<string, number>;
  /** Aborted when the app is asked to stop (exit(), the run's signal). */
  readonly stopping: AbortSignal;
  /** The exit code asked for, and whether anything asked. */
  readonly exitState: { code: number; requested: boolean };
  /** The AppContext of a node's entry point. */
  context(node: BootedNode, role: AppContext['role'], args: readonly string[]): AppContext;
  watchFailures(node: BootedNode): void;
}

/**
 * Boots the front-end of an application: reads and validates its config, creates the simulation
 * and the network (when nodes run in this process), resolves the NodePlatform package, boots the
 * front-end's Ebbs, links its Messenger to the nodes', and has its NodeAllocator boot the
 * configured back-ends. On failure nothing is left running.
 */
export async function bootFrontEnd(appDir: string, options: FrontEndOptions, started: number): Promise<FrontEnd> {
  const dir = resolve(appDir);
  const modules = options.modules ?? new ModuleCache();
  const loaded = await loadConfig(dir, options.configFile, modules);
  const overridden = options.configOverride ? options.configOverride(loaded.config) : loaded.config;
  const output = options.output ?? ((line: string) => process.stdout.write(line + '\n'));
  const seed = options.seed ?? overridden.seed;
  // The run's seed is the config's (`--seed` overrides it): an app draws its workload from ctx.config.seed.
  const config = overridden.seed === seed ? overridden : { ...overridden, seed };
  const clock = options.clock ?? config.clock;
  const resolveOptions: ResolveOptions = { appDir: dir, bases: [...(options.resolveFrom ?? []), dir, RUNTIME_DIR], preferSource: FROM_SOURCE, cache: new Map(), modules };
  const resolvedPlatform = await loadPlatform(config, config.backend?.platform ?? 'in-process', resolveOptions);
  const local = resolvedPlatform.manifest.placement === 'local';
  const simulation = new Simulation({ seed, clock, trace: options.trace ?? false, console: 'silent', ...(options.memory !== undefined ? { memory: options.memory } : {}), ...(options.guestMemory !== undefined ? { guestMemory: options.guestMemory } : {}) });
  const implied = impliedOptions(config);
  // On a realtime network the front-end joins the back-ends' Messengers (through the gateway);
  // a virtual clock cannot wait for real sockets, so there only the back-ends talk.
  const frontendLink = config.network !== undefined && config.backend !== undefined && clock === 'realtime';
  // Under the virtual clock the front-end is still node 0 of the application: it joins the
  // nodes' Messengers through the gateway's stack (a FrontendBridge), with the simulation frozen
  // while it answers, so offloaded calls (FileSystem, GlobalIdMap) replay by seed.
  const bridged = config.network !== undefined && config.backend !== undefined && clock === 'virtual' && local;
  // Nodes placed elsewhere bring their own network (each node process has one).
  const network = config.network === undefined || !local ? undefined : new AppNetwork(simulation, config.network, dir, frontendLink, bridged);
  let frontendNode: BootedNode | undefined;
  const bridge = bridged ? new FrontendBridge(simulation, () => frontendNode?.events, output) : undefined;
  const failures: EventFailure[] = [];
  const exitState = { code: 0, requested: false };
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  if (options.signal?.aborted) stopping.abort();
  const exit = (code = 0): void => {
    exitState.code ||= code;
    exitState.requested = true;
    stopping.abort();
    simulation.stop();
  };
  /** Every failed event of a node is reported on its console and makes the exit code 1. */
  const watchFailures = (node: BootedNode): void =>
    node.events.onEventFailure((f) => {
      failures.push(f);
      const detail = f.error instanceof Error ? (f.error.stack ?? f.error.message) : String(f.error);
      node.console.log(`event #${f.eventId} on core ${f.core} failed: ${detail}`);
    });
  const bootMs = new Map<string, number>();
  const backendsUp: Promise<number>[] = [];
  const context = (node: BootedNode, role: AppContext['role'], args: readonly string[]): AppContext =>
    appContext({ role, node, config, args, exit, stopping: stopping.signal, backendIds: () => Promise.all(backendsUp) });
  const entryModules = new Map<string, Promise<AppMain>>();
  const bootDeps: BackendBootDeps = { config, simulation, network, output, resolve: resolveOptions, implied };
  const localNodes = !local
    ? undefined
    : new LocalNodes({
        simulation,
        numaNodes: (shape) =>
          config.backend !== undefined && shape.cores === config.backend.machine.cores && shape.memoryBytes === config.backend.machine.memory
            ? config.backend.machine.numaNodes
            : 1,
        provider: options.backends ?? directBackends,
        coreFaults: config.backend?.machine.faults,
        network,
        bootBackend: (id, machine, incarnation) => bootBackend(bootDeps, id, machine, incarnation),
        loadImage(image) {
          let main = entryModules.get(image);
          if (main === undefined) entryModules.set(image, (main = loadEntry(dir, image, 'config.entry.backend', modules)));
          return main;
        },
        reportStarted: (node) => bootMs.set(node.label, performance.now() - started),
        booted: (node) => watchFailures(node),
        // A back-end's main may serve forever, so the run never waits for it to settle: a throw or
        // rejection is an event failure like any other (reported, and the exit code becomes 1).
        startMain: (node, main, info) => main(context(node, 'backend', info.args)),
      });
  let link: MessengerLink | undefined;
  const host: PlatformHost = {
    app: { dir, configFile: options.configFile, resolveFrom: options.resolveFrom ?? [], seed },
    output,
    reportFailure: (f) => failures.push(f),
    requestExit: exit,
    local: localNodes,
    frontend: () => link,
    agent: nodeAgentCommand(),
  };
  const platform = await resolvedPlatform.manifest.create(host, resolvedPlatform.options);
  // A dead node's forwarded connections are reset at once (its machine can send no RST itself).
  if (network !== undefined) platform.onActivated((node) => void node.died.then(() => network.nodeDown(node.networkId)));
  // The NodeAllocator may boot (its dormant pool) as soon as it is installed; nodes need the
  // front-end's Messenger up first, so boots wait until the link is settled.
  let platformSettled!: () => void;
  const settled = new Promise<void>((resolve) => (platformSettled = resolve));
  const gated: NodePlatform = {
    kind: platform.kind,
    boot: async (shape) => {
      await settled;
      return platform.boot(shape);
    },
  };

  const frontendChoices = {
    ...(config.backend !== undefined ? { NodeAllocator: DEFAULT_NODE_ALLOCATOR, GlobalIdMap: DEFAULT_GLOBAL_ID_MAP, FileSystem: DEFAULT_FILE_SYSTEM } : {}),
    ...(frontendLink ? { NetworkManager: HOSTED_NETWORK_MANAGER, Messenger: DEFAULT_MESSENGER } : {}),
    ...(bridged ? { Messenger: DEFAULT_MESSENGER } : {}),
    ...config.frontend.ebbs,
  };
  const memoryFiles = options.files === 'memory';
  const fsChoice = frontendChoices.FileSystem;
  if (memoryFiles && fsChoice !== undefined && typeof fsChoice !== 'string' && fsChoice.package === DEFAULT_FILE_SYSTEM) {
    frontendChoices.FileSystem = { ...fsChoice, options: { ...fsChoice.options, io: 'memory' } };
  }
  const machineShape = config.backend === undefined ? undefined : { cores: config.backend.machine.cores, memoryBytes: config.backend.machine.memory };
  const frontend = await bootNode({
    id: 0,
    label: 'frontend',
    target: 'hosted',
    numCores: config.frontend.cores,
    section: 'frontend',
    choices: frontendChoices,
    implied: {
      ...implied,
      ...(machineShape !== undefined ? { NodeAllocator: { poolShape: machineShape } } : {}),
      // The front-end's Messenger takes any free host port; nodes learn it from the runtime.
      ...(frontendLink ? { Messenger: { port: 0 } } : {}),
      // Back-ends' files are the app's: the front-end's FileSystem is confined to its directory.
      // Under the virtual clock it answers inside its events (synchronous I/O) while the world
      // is frozen, so what a node reads replays by seed.
      // A seed's files are its own (FrontEndOptions.files): a memory view of the directory.
      FileSystem: { root: dir, ...(memoryFiles ? { io: 'memory' } : bridged ? { io: 'sync' } : {}) },
    },
    platform: gated,
    output,
    resolve: resolveOptions,
    ...(bridge !== undefined ? { provided: { NetworkManager: { name: '(runtime: front-end bridge through the gateway)', root: bridge.networkManagerRoot() } } } : {}),
  });
  frontendNode = frontend;
  const backends: BootedNode[] = [];
  try {
    // Verified before anything uses its Ebbs (the link uses the Messenger, which uses the stack),
    // so a package lacking a member is refused naming it, not found out by a TypeError later.
    await verifyNode(frontend);
    await network?.prepare((machine, address) => bootGateway(bootDeps, machine, address));
    if (bridge !== undefined && network?.gateway !== undefined) bridge.attachGateway(network.gateway);
    if (frontendLink || bridge !== undefined) {
      link = new MessengerLink(network, frontend, bridge !== undefined);
      await link.start();
      // A front-end with another GlobalIdMap (etcd, say) still answers the back-ends' default one.
      const frontendMap = frontend.packageOf('GlobalIdMap');
      if (frontendMap !== undefined && frontendMap !== DEFAULT_GLOBAL_ID_MAP) await frontend.runOn(0, () => void serveGlobalIdMap());
    }
    localNodes?.useLink(link);
    platformSettled();
    // The front-end boots the back-ends through its NodeAllocator, as an application would.
    // Allocation finishes inside the simulation (each node's agent reports back from its own
    // core), so here we only wait until every node is booted and its agent event posted.
    const count = config.backend?.nodes ?? 0;
    if (count > 0) {
      const posted = new Promise<void>((resolve) => {
        let n = 0;
        platform.onActivated(() => ++n === count && resolve());
      });
      const descriptors = await frontend.runOn(0, () => {
        const allocator = new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();
        const image = config.entry.backend;
        if (image === undefined) throw new ConfigError('config.entry.backend', `backend.nodes is ${count} but there is no back-end entry point`);
        return Array.from({ length: count }, () => allocator.allocateNode(image, { ...machineShape!, args: config.args }));
      });
      for (const d of descriptors) backendsUp.push(d.networkId);
      // A boot failure rejects its descriptor before anything is posted.
      await Promise.race([posted, Promise.all(backendsUp)]);
      backends.push(...(localNodes?.booted ?? []));
    }
    if (network !== undefined) schedulePartition(simulation, network.config.partition, backends.map((b) => b.context.id), network.simulated);
    if (localNodes !== undefined) {
      scheduleNodeFaults(simulation, config.backend?.faults, backends.map((b) => b.context.id), localNodes, (node, error) => {
        failures.push({ node, core: 0, eventId: 0, error });
        output(`ebbrt: node ${node} could not be restarted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      });
    }
  } catch (error) {
    frontend.stop();
    for (const node of platform.liveNodes) void node.destroy();
    await network?.close();
    throw error instanceof NodeAllocationError && error.cause !== undefined ? error.cause : error;
  }
  return {
    dir,
    config,
    modules,
    clock,
    simulation,
    output,
    frontend,
    network,
    platform,
    placement: resolvedPlatform.manifest.placement,
    backends,
    backendsUp,
    failures,
    bootMs,
    stopping: stopping.signal,
    exitState,
    context,
    watchFailures,
  };
}

/** Options the config implies for particular Ebbs (the watchdog budget goes to the Event Manager). */
export function impliedOptions(config: AppConfig): Partial<Record<SystemInterfaceName, Record<string, unknown>>> {
  return config.watchdog ? { EventManager: { watchdogBudgetUs: config.watchdog.budgetUs } } : {};
}
