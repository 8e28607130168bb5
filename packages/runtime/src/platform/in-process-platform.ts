import type { Machine, Simulation } from '@ebbrt/hw-x86sim';
import type { DormantNode, NodePlatform, NodeRuntimeInfo, NodeShape } from '@ebbrt/interfaces';
import type { AppMain } from '../app-context.js';
import type { BackendProvider } from '../boot/backend-provider.js';
import type { BootedNode } from '../boot/boot-node.js';
import { verifyInterfaces } from '../boot/verify-interfaces.js';
import type { AppNetwork } from '@ebbrt/host-network';
import { MessengerLink } from './messenger-link.js';

export interface InProcessPlatformDeps {
  simulation: Simulation;
  provider: BackendProvider;
  network: AppNetwork | undefined;
  /** NUMA nodes of a machine of `shape` (the config's machine has its own setting). */
  numaNodes(shape: NodeShape): number;
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
  /** Joins the node's Messenger to the application's; nodes then report back over it. */
  link?: MessengerLink;
}

/**
 * Back-ends as simulated machines in this process (the default platform). A node boots to
 * dormant (machine, NIC on the network, system Ebbs); activation loads its image, then posts the
 * node's agent event on core 0, which verifies the Ebbs, reports back and starts `main`.
 */
export class InProcessPlatform implements NodePlatform {
  readonly kind = 'in-process';
  private nextId = 1;
  private readonly nodes = new Map<number, InProcessNode>();
  private activatedListeners: ((node: InProcessNode) => void)[] = [];

  /** Settles once the runtime knows whether nodes join the front-end's Messenger. */
  private readonly linkDecided: Promise<MessengerLink | undefined>;
  private decideLink!: (link: MessengerLink | undefined) => void;

  constructor(private readonly deps: InProcessPlatformDeps) {
    this.linkDecided = new Promise((resolve) => (this.decideLink = resolve));
  }

  /** Nodes join the application's Messengers through `link`. Call this or {@link noLink} once. */
  useLink(link: MessengerLink): void {
    this.deps.link = link;
    this.decideLink(link);
  }

  /** Nodes do not join the front-end's Messenger (no front-end link in this run). */
  noLink(): void {
    this.decideLink(undefined);
  }

  async boot(shape: NodeShape): Promise<DormantNode> {
    const id = this.nextId++;
    // Booting is the hypervisor's work, not the caller's: leave the front-end's event first (its
    // watchdog budget is for application code), keeping boots in id order.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { simulation, provider, network } = this.deps;
    const machine = provider.provision(simulation, id, { cores: shape.cores, memory: shape.memoryBytes, numaNodes: this.deps.numaNodes(shape) });
    network?.attachBackend(machine, id);
    let booted: BootedNode;
    try {
      booted = await this.deps.bootBackend(id, machine);
    } catch (error) {
      network?.detachBackend(id);
      simulation.destroyMachine(machine);
      throw error;
    }
    this.deps.booted(booted);
    const node = new InProcessNode(id, shape, booted, machine, this);
    this.nodes.set(id, node);
    // A dormant node is linked and connected to the front-end already, so handing it out is
    // only the activation: load the image, run the agent, one READY on a warm connection.
    const link = await this.linkDecided;
    if (link?.active && !node.destroyed) {
      await link.link(booted);
      booted.events.post(0, () => MessengerLink.warmUp());
    }
    return node;
  }

  /** The live (booted, not destroyed) nodes, by network id. */
  node(id: number): InProcessNode | undefined {
    return this.nodes.get(id);
  }

  get liveNodes(): readonly InProcessNode[] {
    return [...this.nodes.values()];
  }

  /** Called whenever a node's agent event has been posted (activation reached the simulation). */
  onActivated(listener: (node: InProcessNode) => void): void {
    this.activatedListeners.push(listener);
  }

  /** @internal */
  async activate(node: InProcessNode, info: NodeRuntimeInfo): Promise<void> {
    const main = await this.deps.loadImage(info.image);
    if (node.destroyed) throw new Error(`node ${node.networkId} was destroyed before it started`);
    const link = this.deps.link?.active ? this.deps.link : undefined;
    if (link !== undefined && !link.isLinked(node.networkId)) await link.link(node.booted);
    // With a Messenger the node reports back over the network, from its own core; without one
    // (a virtual-clock app with no front-end link) its agent event running is the report.
    const reportedOverNetwork = link?.reported(node.networkId);
    const started = new Promise<void>((resolve, reject) => {
      node.booted.events.post(0, () => {
        try {
          verifyInterfaces(node.booted.installed);
        } catch (error) {
          reject(error);
          return;
        }
        this.deps.reportStarted(node.booted);
        if (link === undefined) resolve();
        else {
          resolve();
          MessengerLink.report().catch((error: unknown) => node.reportFailed(error));
        }
        return this.deps.startMain(node.booted, main, info);
      });
    });
    for (const l of this.activatedListeners) l(node);
    await started;
    if (reportedOverNetwork !== undefined) await Promise.race([reportedOverNetwork, node.reportFailure]);
  }

  /** @internal */
  release(node: InProcessNode): void {
    this.nodes.delete(node.networkId);
    this.deps.link?.unlink(node.networkId);
    node.booted.events.shutdown();
    this.deps.network?.detachBackend(node.networkId);
    this.deps.simulation.destroyMachine(node.machine);
  }
}

export class InProcessNode implements DormantNode {
  destroyed = false;
  readonly died: Promise<Error>;
  private markDied!: (cause: Error) => void;
  /** Rejects if the node gives up reporting back. */
  readonly reportFailure: Promise<never>;
  private failReport!: (error: unknown) => void;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    readonly booted: BootedNode,
    readonly machine: Machine,
    private readonly platform: InProcessPlatform,
  ) {
    this.died = new Promise((resolve) => (this.markDied = resolve));
    this.reportFailure = new Promise<never>((_, reject) => (this.failReport = reject));
    this.reportFailure.catch(() => undefined);
  }

  /** @internal */
  reportFailed(error: unknown): void {
    this.failReport(error);
  }

  activate(info: NodeRuntimeInfo): Promise<void> {
    return this.platform.activate(this, info);
  }

  /** Simulates a crash: the machine loses power (its cores stop); the allocator then frees it. */
  kill(reason = 'killed'): void {
    if (this.destroyed) return;
    this.machine.powerOff();
    this.markDied(new Error(reason));
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.platform.release(this);
  }
}
