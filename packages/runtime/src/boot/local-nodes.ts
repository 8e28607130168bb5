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
  /** Boots node `id`'s system Ebbs on `machine` (the config's back-end choices). */
  bootBackend(id: number, machine: Machine): Promise<BootedNode>;
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
    const { simulation, provider, network } = this.deps;
    const machine = provider.provision(simulation, networkId, { cores: shape.cores, memory: shape.memoryBytes, numaNodes: this.deps.numaNodes(shape), ...(this.deps.coreFaults !== undefined ? { faults: this.deps.coreFaults } : {}) });
    network?.attachBackend(machine, networkId);
    let booted: BootedNode;
    try {
      booted = await this.deps.bootBackend(networkId, machine);
    } catch (error) {
      network?.detachBackend(networkId);
      simulation.destroyMachine(machine);
      throw error;
    }
    this.deps.booted(booted);
    const node = new LocalBootedNode(networkId, booted, machine, this);
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

  /** @internal */
  async activate(node: LocalBootedNode, info: NodeRuntimeInfo, posted: () => void): Promise<void> {
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

  constructor(
    readonly networkId: number,
    readonly booted: BootedNode,
    readonly machine: Machine,
    private readonly host: LocalNodes,
  ) {}

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
