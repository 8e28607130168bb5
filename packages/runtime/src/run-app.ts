import { NodeAllocationError, type AppConfig, type EventFailure, type ManagedPlatform } from '@ebbrt/interfaces';
import type { AppNetwork } from '@ebbrt/host-network';
import type { ClockKind, GuestMemoryKind, MemoryRecycler, RunResult, Simulation } from '@ebbrt/hw-x86sim';
import type { AppMain } from './app-context.js';
import type { BackendProvider } from './boot/backend-provider.js';
import type { BootedNode } from './boot/boot-node.js';
import { loadEntry } from './boot/load-entry.js';
import { bootFrontEnd, type FrontEnd } from './frontend-boot.js';
import type { ModuleCache } from './resolve/module-cache.js';

export interface RunAppOptions {
  seed?: number;
  clock?: ClockKind;
  /** Record a Chrome trace of the simulated nodes. */
  trace?: boolean;
  /** Where console lines go (default: stdout). */
  output?: (line: string) => void;
  /** Stop the simulation at this virtual/real time (ns). */
  untilNs?: number;
  /** Stop the simulation after this many core slices (reason `max-slices`). */
  maxSlices?: number;
  /** Ends a realtime run. */
  signal?: AbortSignal;
  /** How back-end machines are obtained (the NodeAllocator's seam). */
  backends?: BackendProvider;
  /** A config file other than the default ebbrt.config.*, relative to the app directory. */
  configFile?: string;
  /** Extra package search roots, before the app's own directory. */
  resolveFrom?: readonly string[];
  /** Rewrites the validated config before anything boots (the seed runner switches faults with it). */
  configOverride?: (config: AppConfig) => AppConfig;
  /** Modules imported once for this run (the default) or, given, kept for the owner's later runs. */
  modules?: ModuleCache;
  /**
   * Machines take their memory from this recycler. The caller gives it back with
   * `run.simulation.recycleMemory()` once it is done with the run (the seed runner does).
   */
  memory?: MemoryRecycler;
  /** Where machines' guest memory lives: `shared` (SharedArrayBuffer, the default on Node) or `private` (ArrayBuffer). */
  guestMemory?: GuestMemoryKind;
  /**
   * The front-end's files (the FileSystem the back-ends offload to): `disk`, the app's directory
   * itself (the default), or `memory`, a copy-on-write view of it private to this run (reads see
   * the disk, writes vanish with the run). The seed runner asks for `memory`: its seeds run side by
   * side in one app directory and each must depend on its seed alone. It overrides the config's
   * `io` for the default FileSystem package.
   */
  files?: 'disk' | 'memory';
  /** Called once the simulation runs, with what tools and tests may poke at (kill a node, change a link). */
  onStarted?(run: StartedRun): void;
}

export interface StartedRun {
  /** The validated config the run boots from (after any `configOverride`). */
  readonly config: AppConfig;
  readonly simulation: Simulation;
  readonly frontend: BootedNode;
  readonly platform: ManagedPlatform;
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
  readonly platform: ManagedPlatform;
}

/**
 * Boots an application from its directory (see {@link bootFrontEnd}), calls the front-end's entry
 * point on core 0, and runs until the simulation is quiescent (virtual clock) or the app exits /
 * the signal aborts (realtime); then stops the front-end and frees the nodes.
 */
export async function runApp(appDir: string, options: RunAppOptions = {}): Promise<AppRun> {
  const started = performance.now();
  const fe = await bootFrontEnd(appDir, options, started);
  return runFrontEnd(fe, options, started);
}

/** Drives a booted front-end: its main, the simulation, the network's host side; then stop and exit. */
async function runFrontEnd(fe: FrontEnd, options: RunAppOptions, started: number): Promise<AppRun> {
  const { config, simulation, frontend, network, platform } = fe;
  fe.watchFailures(frontend);
  const frontendMain = config.entry.frontend ? await loadEntry(fe.dir, config.entry.frontend, 'config.entry.frontend', fe.modules) : undefined;
  /** The front-end's main is the application's driver: the run lasts until it settles. */
  const drive = (node: BootedNode, main: AppMain): Promise<void> =>
    node.runOn(0, () => {
      fe.bootMs.set(node.label, performance.now() - started);
      return main(fe.context(node, 'frontend', config.args));
    }).then(
      () => undefined,
      (error: unknown) => {
        fe.failures.push({ node: node.context.id, core: 0, eventId: 0, error });
        node.console.log(`main failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    );
  // While the front-end's main runs it may still post into the simulation (allocate a node,
  // send a message), so an idle virtual run is not over until main settles.
  const releaseFrontend = simulation.hold();
  const frontendDone = (frontendMain ? drive(frontend, frontendMain) : Promise.resolve()).finally(releaseFrontend);
  // In real time the front-end's main is the application (as EbbRT's front-end process is): when
  // it settles, the run ends. A virtual run still goes on until the back-ends are quiescent.
  if (frontendMain !== undefined && fe.clock === 'realtime') void frontendDone.then(() => simulation.stop());
  const simulated = simulation.run({
    ...(options.untilNs !== undefined ? { untilNs: options.untilNs } : {}),
    ...(options.maxSlices !== undefined ? { maxSlices: options.maxSlices } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  options.onStarted?.({ config, simulation, frontend, platform, network });
  // The host side of the network needs the gateway's stack up, so it opens once the run is going.
  const networkOpen = network?.open(fe.output).then(() => {
    for (const line of network.describe(fe.backends.length)) fe.output(line);
  });
  // A stopped app does not wait for back-ends still on their way up (their reports never come).
  const stopped = new Promise<void>((resolve) => {
    if (fe.stopping.aborted) resolve();
    else fe.stopping.addEventListener('abort', () => resolve(), { once: true });
  });
  let result: RunResult;
  try {
    [result] = await Promise.all([simulated, frontendDone, networkOpen, Promise.race([Promise.all(fe.backendsUp), stopped])]);
  } catch (error) {
    simulation.stop();
    await simulated.catch(() => undefined);
    for (const node of platform.liveNodes) void node.destroy();
    throw error instanceof NodeAllocationError && error.cause !== undefined ? error.cause : error;
  } finally {
    // The front-end lives in this process's real I/O: its roots' stop() releases it (Messenger
    // listener, hosted sockets), so a program that called runApp is not kept alive by an ended app.
    frontend.stop();
    await network?.close();
  }
  const exitCode = fe.failures.length > 0 && !fe.exitState.requested ? 1 : fe.exitState.code;
  // Nodes placed elsewhere end with the application (the front-end frees what its NodeAllocator
  // holds); simulated ones went with the simulation.
  if (fe.placement === 'remote') await Promise.all(platform.liveNodes.map((n) => n.destroy()));
  return { config, simulation, frontend, backends: fe.backends, result, failures: fe.failures, exitCode, bootMs: fe.bootMs, network, platform };
}

