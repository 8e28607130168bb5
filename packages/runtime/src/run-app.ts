import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EbbRef } from '@ebbrt/core-translation';
import {
  ConfigError,
  NodeAllocationError,
  SystemEbbIds,
  type AppConfig,
  type EventFailure,
  type NodeAllocator,
  type NodePlatform,
  type SystemInterfaceName,
} from '@ebbrt/interfaces';
import { Simulation, type ClockKind, type RunResult } from '@ebbrt/hw-x86sim';
import { appContext, type AppContext, type AppMain } from './app-context.js';
import { bootNode, verifyNode, type BootedNode } from './boot/boot-node.js';
import { directBackends, type BackendProvider } from './boot/backend-provider.js';
import { loadEntry } from './boot/load-entry.js';
import { loadConfig } from './config/load-config.js';
import type { ResolveOptions } from './resolve/load-manifest.js';
import { InProcessPlatform } from './platform/in-process-platform.js';
import { MessengerLink } from './platform/messenger-link.js';
import { ProcessPlatform } from './platform/process-platform.js';
import { AppNetwork } from '@ebbrt/host-network';
import { bootBackend, bootGateway, DEFAULT_FILE_SYSTEM, DEFAULT_GLOBAL_ID_MAP, DEFAULT_MESSENGER, type BackendBootDeps } from './boot/backend-boot.js';
import { serveGlobalIdMap } from '@ebbrt/global-id-map';

/** The front-end's NodeAllocator when the config names none and there are back-ends. */
const DEFAULT_NODE_ALLOCATOR = '@ebbrt/node-allocator';
const HOSTED_NETWORK_MANAGER = '@ebbrt/network-manager-hosted';

export interface RunAppOptions {
  seed?: number;
  clock?: ClockKind;
  /** Record a Chrome trace of the simulated nodes. */
  trace?: boolean;
  /** Where console lines go (default: stdout). */
  output?: (line: string) => void;
  /** Stop the simulation at this virtual/real time (ns). */
  untilNs?: number;
  /** Ends a realtime run. */
  signal?: AbortSignal;
  /** How back-end machines are obtained (the NodeAllocator's seam). */
  backends?: BackendProvider;
  /** A config file other than the default ebbrt.config.*, relative to the app directory. */
  configFile?: string;
  /** Extra package search roots, before the app's own directory. */
  resolveFrom?: readonly string[];
  /** Called once the simulation runs, with what tools and tests may poke at (kill a node, change a link). */
  onStarted?(run: StartedRun): void;
}

export interface StartedRun {
  readonly simulation: Simulation;
  readonly frontend: BootedNode;
  readonly platform: InProcessPlatform | ProcessPlatform;
  readonly network: AppNetwork | undefined;
}

export interface AppRun {
  readonly config: AppConfig;
  readonly simulation: Simulation;
  readonly frontend: BootedNode;
  readonly backends: readonly BootedNode[];
  readonly result: RunResult;
  readonly failures: readonly EventFailure[];
  readonly exitCode: number;
  /** Wall milliseconds from runApp() to each entry point being called, by node label. */
  readonly bootMs: ReadonlyMap<string, number>;
  /** The simulated network, when the config has a `network` section (closed when the run ends). */
  readonly network: AppNetwork | undefined;
  /** Where the NodeAllocator got the back-ends (kill a node with `platform.node(id).kill()`). */
  readonly platform: InProcessPlatform | ProcessPlatform;
}

const RUNTIME_DIR = dirname(fileURLToPath(import.meta.url));
/** Running from .ts sources means a TypeScript loader is active: load workspace packages from source too. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Boots an application from its directory: reads and validates its config,
 * creates the simulation, boots the front-end and the back-end nodes with their
 * system Ebbs, calls each entry point on core 0, and runs until the simulation
 * is quiescent (virtual clock) or the app exits / the signal aborts (realtime).
 */
export async function runApp(appDir: string, options: RunAppOptions = {}): Promise<AppRun> {
  const started = performance.now();
  const dir = resolve(appDir);
  const { config } = await loadConfig(dir, options.configFile);
  const output = options.output ?? ((line: string) => process.stdout.write(line + '\n'));
  const seed = options.seed ?? config.seed;
  const clock = options.clock ?? config.clock;
  const simulation = new Simulation({ seed, clock, trace: options.trace ?? false, console: 'silent' });
  const resolveOptions: ResolveOptions = {
    appDir: dir,
    bases: [...(options.resolveFrom ?? []), dir, RUNTIME_DIR],
    preferSource: FROM_SOURCE,
    cache: new Map(),
  };
  const implied = impliedOptions(config);
  // On a realtime network the front-end joins the back-ends' Messengers (through the gateway);
  // a virtual clock cannot wait for real sockets, so there only the back-ends talk.
  const frontendLink = config.network !== undefined && config.backend !== undefined && clock === 'realtime';
  // With one process per node, the nodes' network lives in their processes, not here.
  const inProcess = config.backend?.platform !== 'process';
  const network = config.network === undefined || !inProcess ? undefined : new AppNetwork(simulation, config.network, dir, frontendLink);
  const failures: EventFailure[] = [];
  let exitCode = 0;
  let exitRequested = false;
  const stopping = new AbortController();
  options.signal?.addEventListener('abort', () => stopping.abort(), { once: true });
  if (options.signal?.aborted) stopping.abort();
  const exit = (code = 0): void => {
    exitCode ||= code;
    exitRequested = true;
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
  const allBackendsUp: Promise<number>[] = [];
  const context = (node: BootedNode, role: AppContext['role'], args: readonly string[]): AppContext =>
    appContext({ role, node, config, args, exit, stopping: stopping.signal, backendIds: () => Promise.all(allBackendsUp) });
  const entryModules = new Map<string, Promise<AppMain>>();
  const bootDeps: BackendBootDeps = { config, simulation, network, output, resolve: resolveOptions, implied };
  const inProcessPlatform = new InProcessPlatform({
    simulation,
    numaNodes: (shape) =>
      config.backend !== undefined && shape.cores === config.backend.machine.cores && shape.memoryBytes === config.backend.machine.memory
        ? config.backend.machine.numaNodes
        : 1,
    provider: options.backends ?? directBackends,
    network,
    bootBackend: (id, machine) => bootBackend(bootDeps, id, machine),
    loadImage(image) {
      let main = entryModules.get(image);
      if (main === undefined) entryModules.set(image, (main = loadEntry(dir, image, 'config.entry.backend')));
      return main;
    },
    reportStarted: (node) => bootMs.set(node.label, performance.now() - started),
    booted: (node) => watchFailures(node),
    // A back-end's main may serve forever, so the run never waits for it to settle: a throw or
    // rejection is an event failure like any other (reported, and the exit code becomes 1).
    startMain: (node, main, info) => main(context(node, 'backend', info.args)),
  });
  let processPlatform: ProcessPlatform | undefined;
  // The NodeAllocator may boot (its dormant pool) as soon as it is installed; node processes need
  // the front-end's Messenger up first, so boots wait until the platform is settled.
  let platformSettled!: () => void;
  const settled = new Promise<void>((resolve) => (platformSettled = resolve));
  const platform: NodePlatform = {
    kind: inProcess ? 'in-process' : 'process',
    boot: async (shape) => {
      await settled;
      return (processPlatform ?? inProcessPlatform).boot(shape);
    },
  };

  const frontendChoices = {
    ...(config.backend !== undefined ? { NodeAllocator: DEFAULT_NODE_ALLOCATOR, GlobalIdMap: DEFAULT_GLOBAL_ID_MAP, FileSystem: DEFAULT_FILE_SYSTEM } : {}),
    ...(frontendLink ? { NetworkManager: HOSTED_NETWORK_MANAGER, Messenger: DEFAULT_MESSENGER } : {}),
    ...config.frontend.ebbs,
  };
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
      FileSystem: { root: dir },
    },
    platform,
    output,
    resolve: resolveOptions,
  });
  const backends: BootedNode[] = [];
  try {
    // Verified before anything uses its Ebbs (the link uses the Messenger, which uses the stack),
    // so a package lacking a member is refused naming it, not found out by a TypeError later.
    await verifyNode(frontend);
    await network?.prepare((machine, address) => bootGateway(bootDeps, machine, address));
    if (!frontendLink) inProcessPlatform.noLink();
    else {
      const link = new MessengerLink(network, frontend);
      await link.start();
      // A front-end with another GlobalIdMap (etcd, say) still answers the back-ends' default one.
      const frontendMap = frontend.packageOf('GlobalIdMap');
      if (frontendMap !== undefined && frontendMap !== DEFAULT_GLOBAL_ID_MAP) await frontend.runOn(0, () => void serveGlobalIdMap());
      if (inProcess) inProcessPlatform.useLink(link);
      else {
        inProcessPlatform.noLink();
        processPlatform = new ProcessPlatform({
          appDir: dir,
          configFile: options.configFile,
          resolveFrom: options.resolveFrom ?? [],
          seed,
          output,
          onFailure: (f) => failures.push(f),
          onExitRequest: exit,
          link,
        });
      }
    }
    platformSettled();
    // The front-end boots the back-ends through its NodeAllocator, as an application would.
    // Allocation finishes inside the simulation (each node's agent reports back from its own
    // core), so here we only wait until every node is booted and its agent event posted.
    const count = config.backend?.nodes ?? 0;
    if (count > 0) {
      const posted = new Promise<void>((resolve) => {
        let n = 0;
        (processPlatform ?? inProcessPlatform).onActivated(() => ++n === count && resolve());
      });
      const descriptors = await frontend.runOn(0, () => {
        const allocator = new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();
        const image = config.entry.backend;
        if (image === undefined) throw new ConfigError('config.entry.backend', `backend.nodes is ${count} but there is no back-end entry point`);
        return Array.from({ length: count }, () => allocator.allocateNode(image, { ...machineShape!, args: config.args }));
      });
      for (const d of descriptors) allBackendsUp.push(d.networkId);
      // A boot failure rejects its descriptor before anything is posted.
      await Promise.race([posted, Promise.all(allBackendsUp)]);
      if (processPlatform === undefined) backends.push(...inProcessPlatform.liveNodes.map((n) => n.booted));
    }
  } catch (error) {
    frontend.stop();
    for (const node of (processPlatform ?? inProcessPlatform).liveNodes) void node.destroy();
    await network?.close();
    throw error instanceof NodeAllocationError && error.cause !== undefined ? error.cause : error;
  }
  watchFailures(frontend);

  const frontendMain = config.entry.frontend ? await loadEntry(dir, config.entry.frontend, 'config.entry.frontend') : undefined;
  /** The front-end's main is the application's driver: the run lasts until it settles. */
  const drive = (node: BootedNode, main: AppMain): Promise<void> =>
    node.runOn(0, () => {
      bootMs.set(node.label, performance.now() - started);
      return main(context(node, 'frontend', config.args));
    }).then(
      () => undefined,
      (error: unknown) => {
        failures.push({ node: node.context.id, core: 0, eventId: 0, error });
        node.console.log(`main failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    );

  // While the front-end's main runs it may still post into the simulation (allocate a node,
  // send a message), so an idle virtual run is not over until main settles.
  const releaseFrontend = simulation.hold();
  const frontendDone = (frontendMain ? drive(frontend, frontendMain) : Promise.resolve()).finally(releaseFrontend);
  // In real time the front-end's main is the application (as EbbRT's front-end process is): when
  // it settles, the run ends. A virtual run still goes on until the back-ends are quiescent.
  if (frontendMain !== undefined && clock === 'realtime') void frontendDone.then(() => simulation.stop());
  const simulated = simulation.run({
    ...(options.untilNs !== undefined ? { untilNs: options.untilNs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const work = allBackendsUp;
  options.onStarted?.({ simulation, frontend, platform: processPlatform ?? inProcessPlatform, network });
  // The host side of the network needs the gateway's stack up, so it opens once the run is going.
  const networkOpen = network?.open(output).then(() => {
    for (const line of network.describe(backends.length)) output(line);
  });
  let result: RunResult;
  try {
    [result] = await Promise.all([simulated, frontendDone, networkOpen, ...work]);
  } catch (error) {
    simulation.stop();
    await simulated.catch(() => undefined);
    for (const node of (processPlatform ?? inProcessPlatform).liveNodes) void node.destroy();
    throw error instanceof NodeAllocationError && error.cause !== undefined ? error.cause : error;
  } finally {
    // The front-end lives in this process's real I/O: its roots' stop() releases it (Messenger
    // listener, hosted sockets), so a program that called runApp is not kept alive by an ended app.
    frontend.stop();
    await network?.close();
  }
  if (failures.length > 0 && !exitRequested) exitCode = 1;
  // Node processes end with the application (the front-end frees what its NodeAllocator holds).
  await Promise.all((processPlatform?.liveNodes ?? []).map((n) => n.destroy()));
  return { config, simulation, frontend, backends, result, failures, exitCode, bootMs, network, platform: processPlatform ?? inProcessPlatform };
}

/** Options the config implies for particular Ebbs (the watchdog budget goes to the Event Manager). */
function impliedOptions(config: AppConfig): Partial<Record<SystemInterfaceName, Record<string, unknown>>> {
  return config.watchdog ? { EventManager: { watchdogBudgetUs: config.watchdog.budgetUs } } : {};
}


