import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import type { AppNetwork } from '@ebbrt/host-network';
import type { CoreFaultsConfig, LocalNode, LocalNodeHost, NodeIntrospection, NodeRuntimeInfo, NodeShape } from '@ebbrt/interfaces';
import type { AppMain } from '../app-context.js';
import { MessengerLink } from '../platform/messenger-link.js';
import type { BackendProvider } from './backend-provider.js';
import type { BootedNode } from './boot-node.js';
import { introspectNode } from './introspect-node.js';
import { verifyInterfaces } from './verify-interfaces.js';

export interface LocalNodesDeps {
  simulation: Simulation;
  provider: BackendProvider;
  network: AppNetwork | undefined;
  /** NUMA nodes of a machine of `shape` (the config's machine has its own setting). */
  numaNodes(shape: NodeShape): number;
  /** The config's core faults (`backend.machine.faults`), for every machine booted here. */
  coreFaults?: CoreFaultsConfig | undefined;
  /**
   * Boots node `id`'s system Ebbs on `machine` (the config's back-end choices); `incarnation`
   * counts its restarts (0 at first boot), so its Messenger can tell peers it is a new life.
   */
  bootBackend(id: number, machine: Machine, incarnation: number): Promise<BootedNode>;
  /** Loads an image (entry module) by its path relative to the app. */
  loadImage(image: string): Promise<AppMain>;
  /** Calls `main` with the node's AppContext; runs inside the agent event on core 0. */
  startMain(node: BootedNode, main: AppMain, info: NodeRuntimeInfo): unknown;
  /** Wall ms from the run's start, to record each node's boot time. */
  reportStarted(node: BootedNode): void;
  /** A node has booted: the runtime watches its events (failures), whoever allocated it. */
  booted(node: BootedNode): void;
}

/**
 * Back-ends as simulated machines in this process: what a `placement: 'local'` platform
 * (`@ebbrt/platform-in-process`) places nodes with. A node boots to dormant (machine, NIC on the
 * network, system Ebbs, linked); activation loads its image, then posts the node's agent event on
 * core 0, which verifies the Ebbs, reports back and starts `main`.
 */
export class LocalNodes implements LocalNodeHost {
  private readonly nodes = new Map<number, LocalBootedNode>();
  /** Settles once the runtime knows whether nodes join the front-end's Messenger. */
  private readonly linkDecided: Promise<MessengerLink | undefined>;
  private decideLink!: (link: MessengerLink | undefined) => void;
  private link: MessengerLink | undefined;

  constructor(private readonly deps: LocalNodesDeps) {
    this.linkDecided = new Promise((resolve) => (this.decideLink = resolve));
  }

  /** Nodes join the application's Messengers through `link` (or not: undefined). Call once. */
  useLink(link: MessengerLink | undefined): void {
    this.link = link;
    this.decideLink(link);
  }

  /** The booted nodes still alive, in boot order (the run's `backends`). */
  get booted(): readonly BootedNode[] {
    return [...this.nodes.values()].map((n) => n.booted);
  }

  async boot(networkId: number, shape: NodeShape): Promise<LocalNode> {
    // Booting is the hypervisor's work, not the caller's: leave the front-end's event first (its
    // watchdog budget is for application code), keeping boots in id order.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { simulation, network } = this.deps;
    const machine = this.provision(networkId, shape);
    network?.attachBackend(machine, networkId);
    let booted: BootedNode;
    try {
      booted = await this.deps.bootBackend(networkId, machine, 0);
    } catch (error) {
      network?.detachBackend(networkId);
      simulation.destroyMachine(machine);
      throw error;
    }
    this.deps.booted(booted);
    const node = new LocalBootedNode(networkId, shape, booted, machine, this);
    this.nodes.set(networkId, node);
    // A dormant node is linked and connected to the front-end already, so handing it out is
    // only the activation: load the image, run the agent, one READY on a warm connection.
    const link = await this.linkDecided;
    if (link?.active && !node.released) {
      await link.link(booted);
      if (link.reportsOverNetwork) booted.events.post(0, () => MessengerLink.warmUp());
    }
    return node;
  }

  private provision(networkId: number, shape: NodeShape): Machine {
    const { simulation, provider } = this.deps;
    return provider.provision(simulation, networkId, { cores: shape.cores, memory: shape.memoryBytes, numaNodes: this.deps.numaNodes(shape), ...(this.deps.coreFaults !== undefined ? { faults: this.deps.coreFaults } : {}) });
  }

  /** The node `networkId` while it is booted here (alive or crashed), for node faults. */
  node(networkId: number): LocalBootedNode | undefined {
    return this.nodes.get(networkId);
  }

  /**
   * Crashes node `networkId` now (call from a simulation event): its machine loses power
   * mid-whatever and leaves the simulation, its NIC is unplugged from the switch. Nothing is sent
   * on its behalf (no FIN, no RST): peers find out as a real network's peers would, from
   * retransmissions that time out or a reset from its next life. False if it is not running.
   */
  crash(networkId: number): boolean {
    const node = this.nodes.get(networkId);
    if (node === undefined || node.released || node.crashed || !node.machine.poweredOn) return false;
    this.deps.simulation.faults.record('node.crash', { pid: node.machine.tracePid, tid: 0 }, { node: networkId, incarnation: node.incarnation });
    node.crashed = true;
    this.deps.network?.detachBackend(networkId);
    this.deps.simulation.destroyMachine(node.machine);
    return true;
  }

  /**
   * Restarts a crashed node with fresh memory under its old identity: a new machine (same id,
   * name, address and MAC), its system Ebbs booted anew (new allocator, new reps: nothing of the
   * old life survives), then its image's `main` again with the args of its first activation.
   * A virtual run is paused while the boot's host-side awaits run, so the restart happens at one
   * instant of simulated time whatever the wall clock does: the trace stays byte-exact.
   */
  async restart(networkId: number): Promise<void> {
    const node = this.nodes.get(networkId);
    if (node === undefined || node.released || !node.crashed) throw new Error(`node ${networkId} is not crashed: nothing to restart`);
    const info = node.info;
    if (info === undefined) throw new Error(`node ${networkId} crashed before it was started: nothing to restart`);
    const { simulation, network } = this.deps;
    const pause = simulation.clockKind === 'virtual' && !simulation.paused;
    if (pause) simulation.pause();
    let resumed = false;
    const resume = (): void => {
      if (resumed) return;
      resumed = true;
      if (pause) simulation.resume();
    };
    try {
      const machine = this.provision(networkId, node.shape);
      network?.attachBackend(machine, networkId);
      let booted: BootedNode;
      try {
        booted = await this.deps.bootBackend(networkId, machine, node.incarnation + 1);
      } catch (error) {
        // A node that cannot boot stays crashed: nothing of the half-booted life is left on the network.
        network?.detachBackend(networkId);
        simulation.destroyMachine(machine);
        throw error;
      }
      if (node.released) {
        booted.events.shutdown();
        network?.detachBackend(networkId);
        simulation.destroyMachine(machine);
        return;
      }
      this.deps.booted(booted);
      node.reincarnate(booted, machine);
      simulation.faults.record('node.restart', { pid: machine.tracePid, tid: 0 }, { node: networkId, incarnation: node.incarnation });
      await this.activate(node, info, resume);
    } finally {
      resume();
    }
  }

  /** @internal */
  async activate(node: LocalBootedNode, info: NodeRuntimeInfo, posted: () => void): Promise<void> {
    node.info = info;
    const main = await this.deps.loadImage(info.image);
    if (node.released) throw new Error(`node ${node.networkId} was destroyed before it started`);
    const link = this.link?.active ? this.link : undefined;
    if (link !== undefined && !link.isLinked(node.networkId)) await link.link(node.booted);
    // With a Messenger the node reports back over the network, from its own core; without one
    // (a virtual-clock app with no front-end link) its agent event running is the report.
    const reporting = link?.reportsOverNetwork === true ? link : undefined;
    const reportedOverNetwork = reporting?.reported(node.networkId);
    let reportFailed!: (error: unknown) => void;
    const reportFailure = new Promise<never>((_, reject) => (reportFailed = reject));
    reportFailure.catch(() => undefined);
    const started = new Promise<void>((resolve, reject) => {
      node.booted.events.post(0, () => {
        try {
          verifyInterfaces(node.booted.installed);
        } catch (error) {
          reject(error);
          return;
        }
        this.deps.reportStarted(node.booted);
        resolve();
        if (reporting !== undefined) MessengerLink.report().catch((error: unknown) => reportFailed(error));
        return this.deps.startMain(node.booted, main, info);
      });
    });
    posted();
    await started;
    if (reportedOverNetwork !== undefined) await Promise.race([reportedOverNetwork, reportFailure]);
  }

  /** @internal */
  release(node: LocalBootedNode): void {
    this.nodes.delete(node.networkId);
    this.link?.unlink(node.networkId);
    node.booted.events.shutdown();
    this.deps.network?.detachBackend(node.networkId);
    this.deps.simulation.destroyMachine(node.machine);
  }
}

class LocalBootedNode implements LocalNode {
  released = false;
  /** Crashed and not (yet) restarted. */
  crashed = false;
  /** Restarts so far (0: its first life). */
  incarnation = 0;
  /** How it was started (a restart starts it the same way). */
  info: NodeRuntimeInfo | undefined;
  private _booted: BootedNode;
  private _machine: Machine;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    booted: BootedNode,
    machine: Machine,
    private readonly host: LocalNodes,
  ) {
    this._booted = booted;
    this._machine = machine;
  }

  /** The node's current life: its Ebbs and machine (a restart replaces both). */
  get booted(): BootedNode {
    return this._booted;
  }

  get machine(): Machine {
    return this._machine;
  }

  /** @internal a restart's new life. */
  reincarnate(booted: BootedNode, machine: Machine): void {
    this._booted = booted;
    this._machine = machine;
    this.incarnation++;
    this.crashed = false;
  }

  activate(info: NodeRuntimeInfo, posted: () => void): Promise<void> {
    return this.host.activate(this, info, posted);
  }

  powerOff(): void {
    this.machine.powerOff();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.host.release(this);
  }

  introspect(): NodeIntrospection {
    return introspectNode(this.booted);
  }
}
