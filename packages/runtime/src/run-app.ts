import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig, EventFailure, SystemInterfaceName } from '@ebbrt/interfaces';
import { Simulation, type ClockKind, type RunResult } from '@ebbrt/hw-x86sim';
import type { AppContext, AppMain } from './app-context.js';
import { bootNode, verifyNode, type BootedNode } from './boot/boot-node.js';
import { directBackends, type BackendProvider } from './boot/backend-provider.js';
import { loadEntry } from './boot/load-entry.js';
import { loadConfig } from './config/load-config.js';
import type { ResolveOptions } from './resolve/load-manifest.js';
import { AppNetwork, GATEWAY_NODE_ID, NATIVE_NETWORK_MANAGER } from './network/app-network.js';

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
  const network = config.network === undefined ? undefined : new AppNetwork(simulation, config.network, dir);
  // On a network, a back-end without a NetworkManager named gets the native one.
  const backendChoices =
    network !== undefined && config.backend !== undefined && config.backend.ebbs.NetworkManager === undefined
      ? { ...config.backend.ebbs, NetworkManager: NATIVE_NETWORK_MANAGER }
      : config.backend?.ebbs;
  const failures: EventFailure[] = [];
  let exitCode = 0;
  let exitRequested = false;
  const exit = (code = 0): void => {
    exitCode ||= code;
    exitRequested = true;
    simulation.stop();
  };

  const frontend = await bootNode({
    id: 0,
    label: 'frontend',
    target: 'hosted',
    numCores: config.frontend.cores,
    section: 'frontend',
    choices: config.frontend.ebbs,
    implied,
    output,
    resolve: resolveOptions,
  });
  const provider = options.backends ?? directBackends;
  const backends: BootedNode[] = [];
  try {
    const count = config.backend?.nodes ?? 0;
    for (let i = 0; i < count; i++) {
      const id = i + 1;
      const machine = provider.provision(simulation, id, config.backend!.machine);
      network?.attachBackend(machine, id);
      backends.push(
        await bootNode({
          id,
          label: `node ${id}`,
          target: 'native',
          numCores: config.backend!.machine.cores,
          section: 'backend',
          choices: backendChoices!,
          implied: network === undefined ? implied : { ...implied, NetworkManager: network.impliedOptions(id) },
          machine,
          simulation,
          output,
          resolve: resolveOptions,
        }),
      );
    }
    await network?.prepare((machine, address) =>
      bootNode({
        id: GATEWAY_NODE_ID,
        label: 'gateway',
        target: 'native',
        numCores: machine.cores.length,
        section: 'network',
        choices: { NetworkManager: NATIVE_NETWORK_MANAGER },
        implied: { NetworkManager: { address } },
        machine,
        simulation,
        output,
        resolve: resolveOptions,
      }),
    );
  } catch (error) {
    frontend.events.shutdown();
    for (const node of backends) node.events.shutdown();
    await network?.close();
    throw error;
  }
  for (const node of [frontend, ...backends]) node.events.onEventFailure((f) => {
    failures.push(f);
    const detail = f.error instanceof Error ? (f.error.stack ?? f.error.message) : String(f.error);
    node.console.log(`event #${f.eventId} on core ${f.core} failed: ${detail}`);
  });

  const bootMs = new Map<string, number>();
  const frontendMain = config.entry.frontend ? await loadEntry(dir, config.entry.frontend, 'config.entry.frontend') : undefined;
  const backendMain = config.entry.backend ? await loadEntry(dir, config.entry.backend, 'config.entry.backend') : undefined;
  const context = (node: BootedNode, role: AppContext['role']): AppContext => ({
    role,
    node: node.context,
    config,
    args: config.args,
    log: (line) => node.console.log(line),
    exit,
  });
  /**
   * Calls `main` as an event on core 0; resolves once it has been called. A back-end's main
   * may serve forever, so the run never waits for it to settle: a throw or rejection is an
   * event failure like any other (reported, and the exit code becomes 1).
   */
  const start = (node: BootedNode, role: AppContext['role'], main: AppMain): Promise<void> =>
    new Promise<void>((called) => {
      node.events.post(0, function appMain() {
        bootMs.set(node.label, performance.now() - started);
        called();
        return main(context(node, role));
      });
    });
  /** The front-end's main is the application's driver: the run lasts until it settles. */
  const drive = (node: BootedNode, main: AppMain): Promise<void> =>
    node.runOn(0, () => {
      bootMs.set(node.label, performance.now() - started);
      return main(context(node, 'frontend'));
    }).then(
      () => undefined,
      (error: unknown) => {
        failures.push({ node: node.context.id, core: 0, eventId: 0, error });
        node.console.log(`main failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    );

  // The front-end comes up first, as it is the one that booted the back-ends.
  await verifyNode(frontend);
  const frontendDone = frontendMain ? drive(frontend, frontendMain) : Promise.resolve();
  // Back-end work is posted before the simulation runs, so a virtual run cannot go
  // quiescent before the nodes have anything to do.
  const work = backends.map((node) =>
    verifyNode(node).then(() => (backendMain ? start(node, 'backend', backendMain) : undefined)),
  );
  const simulated = simulation.run({
    ...(options.untilNs !== undefined ? { untilNs: options.untilNs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
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
    for (const node of backends) node.events.shutdown();
    throw error;
  } finally {
    frontend.events.shutdown();
    await network?.close();
  }
  if (failures.length > 0 && !exitRequested) exitCode = 1;
  return { config, simulation, frontend, backends, result, failures, exitCode, bootMs, network };
}

/** Options the config implies for particular Ebbs (the watchdog budget goes to the Event Manager). */
function impliedOptions(config: AppConfig): Partial<Record<SystemInterfaceName, Record<string, unknown>>> {
  return config.watchdog ? { EventManager: { watchdogBudgetUs: config.watchdog.budgetUs } } : {};
}
