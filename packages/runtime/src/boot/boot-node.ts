import { NodeContext, StaticSharedEbb, cpu } from '@ebbrt/core-translation';
import {
  PackageResolutionError,
  SystemEbbIds,
  type EbbChoice,
  type EventFn,
  type EventManagerRoot,
  type FaultSink,
  type NodePlatform,
  type SystemInterfaceName,
  type SystemRootTypes,
  type Target,
} from '@ebbrt/interfaces';
import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import type { ResolveOptions } from '../resolve/load-manifest.js';
import { installSystemEbbs, type InstallRequest, type InstalledEbb } from './install-ebbs.js';
import { NodeConsole } from './node-console.js';
import { verifyInterfaces } from './verify-interfaces.js';

export interface NodeSpec {
  /** Network id: 0 for the front-end, 1.. for back-ends. */
  id: number;
  label: string;
  target: Target;
  numCores: number;
  /** The config section the choices came from, for error messages. */
  section: 'frontend' | 'backend' | 'network';
  choices: Partial<Record<SystemInterfaceName, EbbChoice>>;
  implied: Partial<Record<SystemInterfaceName, Record<string, unknown>>>;
  machine?: Machine;
  simulation?: Simulation;
  /** Front-end only: the NodeAllocator's platform. */
  platform?: NodePlatform;
  /** Where console lines go once formatted. */
  output(line: string): void;
  resolve: ResolveOptions;
  /** Roots the runtime provides for a kind instead of a package (see InstallRequest.provided). */
  provided?: InstallRequest['provided'];
}

/** A node with its system Ebbs installed and its cores' event loops running. */
export class BootedNode {
  constructor(
    readonly context: NodeContext,
    readonly label: string,
    readonly events: EventManagerRoot,
    readonly installed: readonly InstalledEbb[],
    readonly console: NodeConsole,
    readonly machine: Machine | undefined,
  ) {}

  /** The root of the installed `kind`, typed by its contract, or undefined if the node has none. */
  root<K extends SystemInterfaceName>(kind: K): SystemRootTypes[K] | undefined {
    // The entry's kind is `kind`, and install checked its root against that kind's contract;
    // TypeScript cannot correlate the two through the union, hence the one narrowing here.
    return this.installed.find((e) => e.kind === kind)?.root as SystemRootTypes[K] | undefined;
  }

  /** The package that provides `kind` on this node, if any. */
  packageOf(kind: SystemInterfaceName): string | undefined {
    return this.installed.find((e) => e.kind === kind)?.packageName;
  }

  /**
   * Stops every root (its declared lifecycle) in reverse install order, so what holds host I/O
   * (a Messenger's listener, a hosted stack's sockets) lets go, then stops the cores' loops.
   */
  stop(): void {
    for (const e of [...this.installed].reverse()) e.root.stop?.();
    this.events.shutdown();
  }

  /** Runs `fn` as an event on `core` and resolves with its (awaited) result. */
  runOn<T>(core: number, fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const event: EventFn = () => {
        try {
          Promise.resolve(fn()).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      };
      this.events.post(core, event);
    });
  }
}

/**
 * Boots one node: its NodeContext (id space = id + 1, so the front-end owns
 * space 1 and back-end N owns N + 1), a console, and the system Ebbs in boot
 * order. The interfaces are verified from core 0 once the loops run.
 */
export async function bootNode(spec: NodeSpec): Promise<BootedNode> {
  const context = new NodeContext({ id: spec.id, numCores: spec.numCores, target: spec.target, idSpace: spec.id + 1 });
  const sink =
    spec.machine !== undefined
      ? (line: string) => spec.machine!.serial.write(line + '\n')
      : (line: string) => spec.output(line);
  if (spec.machine !== undefined) spec.machine.serial.onLine((line) => spec.output(line));
  const console = new NodeConsole(context, spec.label, sink);
  StaticSharedEbb.install(context, SystemEbbIds.Console, console);
  const installed = await installSystemEbbs({
    node: context,
    target: spec.target,
    section: spec.section,
    choices: spec.choices,
    implied: spec.implied,
    machine: spec.machine,
    simulation: spec.simulation,
    ...(spec.platform !== undefined ? { platform: spec.platform } : {}),
    ...(spec.provided !== undefined ? { provided: spec.provided } : {}),
    ...(spec.machine !== undefined && spec.simulation !== undefined ? { faults: faultSink(context, spec.machine, spec.simulation) } : {}),
    log: (kind, line) => console.ebbLog(kind, line),
    resolve: spec.resolve,
  });
  const em = installed.find((e) => e.kind === 'EventManager');
  if (em === undefined) throw new PackageResolutionError('(none)', `${spec.label} has no EventManager`);
  const node = new BootedNode(context, spec.label, em.root, installed, console, spec.machine);
  for (const e of installed) e.root.start?.();
  console.bootLog(`booted: ${spec.numCores} core${spec.numCores === 1 ? "" : "s"}; ${installed.map((e) => `${e.kind}=${e.packageName}`).join(', ')}`);
  console.markBooted();
  return node;
}

/** Verifies every installed Ebb from core 0 of `node`. */
export function verifyNode(node: BootedNode): Promise<void> {
  return node.runOn(0, () => verifyInterfaces(node.installed));
}

/**
 * Where a simulated node's Ebbs draw and count the faults they inject: a stream per label forked
 * from the simulation's PRNG for this node (so one Ebb's draws never shift another's), and the
 * simulation's fault log at this machine and the calling core.
 */
function faultSink(node: NodeContext, machine: Machine, simulation: Simulation): FaultSink {
  return {
    stream(label) {
      const prng = simulation.prng.fork(`${label}:node${node.id}`);
      return { next: () => prng.nextFloat() };
    },
    record(kind, args) {
      const core = cpu.current;
      simulation.faults.record(kind, { pid: machine.tracePid, tid: core !== undefined && core.node === node ? core.index : 0 }, args);
    },
  };
}
