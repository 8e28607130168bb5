import { EbbRef } from '@ebbrt/core-translation';
import { validateVirtioNetFaults, type Machine, type Simulation, type VirtioNetFaults } from '@ebbrt/hw-x86sim';
import {
  ConfigError,
  PackageResolutionError,
  SystemEbbIds,
  type EventManagerRoot,
  type NetworkConfig,
  type NetworkManager,
  type NetworkManagerRoot,
} from '@ebbrt/interfaces';
import { HostRelay } from './host-relay.js';
import { PortForward } from './port-forward.js';
import { SimulatedNetwork } from './simulated-network.js';
import { GATEWAY_HOST, nodeHost } from './subnet.js';
import { TapUplink, tapUnavailableReason, type TapPathCounters } from './tap-uplink.js';
import { tapHelperBinary } from './tap-helper.js';

/** The native NetworkManager the gateway runs, and the default for back-ends on a network. */
export const NATIVE_NETWORK_MANAGER = '@ebbrt/network-manager-lwip';

/** Node id of the gateway: outside the back-ends' range, in the last id space. */
export const GATEWAY_NODE_ID = 0xfffe;

/**
 * What the network needs of its booted gateway node (the runtime's BootedNode is one): a way into
 * its core, and its stack's declared root contract.
 */
export interface GatewayNode {
  readonly events: EventManagerRoot;
  root(kind: 'NetworkManager'): NetworkManagerRoot | undefined;
  packageOf(kind: 'NetworkManager'): string | undefined;
  runOn<T>(core: number, fn: () => T | Promise<T>): Promise<T>;
}

/** Boots the gateway machine (1 core, the native NetworkManager at `address`): the runtime's job. */
export type GatewayBooter = (machine: Machine, address: string) => Promise<GatewayNode>;

/**
 * Everything the config's `network` section asks for: the switch and each node's NIC, the
 * per-node addresses, and the ways in from the host: port forwards (through a gateway node
 * running our own stack) and a TAP device.
 */
export class AppNetwork {
  readonly simulated: SimulatedNetwork;
  readonly forwards: PortForward[] = [];
  /** Node → host loopback relay (config `hostAccess`). */
  hostRelay: HostRelay | undefined;
  gateway: GatewayNode | undefined;
  tap: TapUplink | undefined;
  /** The TAP path's counters as they were when the network closed (for `ebbrt run --stats`). */
  tapCounters: TapPathCounters | undefined;
  /** Why the TAP was not set up, when it was asked for but is not `required`. */
  tapSkipped: string | undefined;
  /** Why socat relays the TAP although `network.tap.relay` asked for the helper (it could not be built). */
  tapRelayFallback: string | undefined;
  /** Forwards to each node's Messenger, for the front-end (see {@link forwardToNode}). */
  private readonly nodeForwards = new Map<number, PortForward>();
  private log: (line: string) => void = () => undefined;

  constructor(
    private readonly simulation: Simulation,
    readonly config: NetworkConfig,
    appDir: string,
    /** The front-end talks to the nodes (its Messenger): a gateway with host access and per-node forwards. */
    readonly frontendLink = false,
    /**
     * Virtual clock: the front-end reaches the nodes through the gateway's stack (a
     * FrontendBridge) rather than host sockets, so there is a gateway even without forwards.
     */
    readonly bridged = false,
  ) {
    this.simulated = new SimulatedNetwork(simulation, config, appDir);
    this.nicFaults = nicFaults(config);
    // The config's ports stay open for the run (a count no link can take to zero).
    this.hostPorts = new Map(config.hostAccess.map((p) => [p, Infinity]));
  }

  /** Plugs back-end `nodeId`'s NIC (with the config's NIC faults) into the switch; call before the node boots. */
  attachBackend(machine: Machine, nodeId: number): void {
    this.simulated.attach(machine, `node${nodeId}`, this.nicFaults);
    this.nodeSources.add(this.simulated.subnet.host(nodeHost(nodeId)));
  }

  /** Host ports nodes may reach at the gateway: the config's, and what the Messenger link opens. */
  private readonly hostPorts: Map<number, number>;
  /** `network.nic.faults`, validated: every back-end's NIC gets them. */
  private readonly nicFaults: VirtioNetFaults | undefined;
  /** The app's own nodes' addresses: the only sources the gateway relays to the host. */
  private readonly nodeSources = new Set<string>();

  private get hostAccess(): boolean {
    return this.config.hostAccess.length > 0 || this.frontendLink;
  }

  /**
   * Opens host port `port` to the app's nodes at the gateway's address (the front-end's
   * Messenger, a peer node process's forward). Counted: each open needs its close.
   */
  openHostPort(port: number): void {
    this.hostPorts.set(port, (this.hostPorts.get(port) ?? 0) + 1);
  }

  closeHostPort(port: number): void {
    const n = this.hostPorts.get(port) ?? 0;
    if (n <= 1) this.hostPorts.delete(port);
    else this.hostPorts.set(port, n - 1);
  }

  /** The gateway's host access policy: only the app's nodes, only the opened ports. */
  admits(remote: string, port: number): boolean {
    return this.nodeSources.has(remote) && this.hostPorts.has(port);
  }

  /** The gateway's address in the subnet (host 1). */
  get gatewayAddress(): string {
    return this.simulated.subnet.host(GATEWAY_HOST);
  }

  /**
   * A host port on `bindHost` (127.0.0.1 unless a node agent is told to listen where other hosts
   * reach it) carried to `port` of node `nodeId` through the gateway (the front-end's way to a
   * node's Messenger). Resolves with the host port once it listens.
   */
  async forwardToNode(nodeId: number, port: number, bindHost = '127.0.0.1'): Promise<number> {
    if (this.gateway === undefined) throw new Error('forwardToNode: the network has no gateway (frontendLink is off)');
    const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
    const forward = new PortForward(
      { listen: { host: bindHost, port: 0 }, address: this.simulated.subnet.host(nodeHost(nodeId)), port },
      this.gateway.events,
      () => nm.deref(),
      (line) => this.log(line),
    );
    await forward.open();
    this.nodeForwards.set(nodeId, forward);
    return forward.port;
  }

  closeNodeForward(nodeId: number): void {
    const forward = this.nodeForwards.get(nodeId);
    this.nodeForwards.delete(nodeId);
    void forward?.close();
  }

  /** Unplugs a freed back-end's NIC, so nothing on the network keeps its machine alive. */
  detachBackend(nodeId: number): void {
    this.simulated.detach(`node${nodeId}`);
    this.nodeSources.delete(this.simulated.subnet.host(nodeHost(nodeId)));
  }

  /** The options the config implies for back-end `nodeId`'s NetworkManager. */
  impliedOptions(nodeId: number): Record<string, unknown> {
    return { address: this.simulated.nodeAddress(nodeId) };
  }

  /** Boots the gateway node (if there are forwards or host access); call before the simulation runs. */
  async prepare(bootGateway: GatewayBooter): Promise<void> {
    if (this.config.forwards.length === 0 && !this.hostAccess && !this.bridged) return;
    const machine = this.simulation.createMachine({ name: 'gateway', cores: 1, memoryBytes: 32 * 1024 * 1024 });
    if (this.config.gateway.nic === 'direct') this.simulated.attachPort(machine, 'gateway');
    else this.simulated.attach(machine, 'gateway');
    this.gateway = await bootGateway(machine, this.simulated.subnet.hostWithPrefix(GATEWAY_HOST));
  }

  /** Node `nodeId` died: the forwards to it reset their host connections (see PortForward.resetAll). */
  nodeDown(nodeId: number): void {
    const address = this.simulated.subnet.host(nodeHost(nodeId));
    for (const f of this.forwards) if (f.target.address === address) f.resetAll(`node ${nodeId} is down`);
  }

  /**
   * Opens the host side: waits for the gateway's stack (so the run must be going), listens on
   * every forward's host port, and creates the TAP. On failure, undoes what it opened.
   */
  async open(log: (line: string) => void): Promise<void> {
    this.log = log;
    try {
      if (this.gateway !== undefined) {
        await gatewayReady(this.gateway);
        const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
        for (const f of this.config.forwards) {
          const address = this.simulated.subnet.host(nodeHost(f.node));
          const forward = new PortForward({ listen: f.listen, address, port: f.port }, this.gateway.events, () => nm.deref(), log);
          this.forwards.push(forward);
          await forward.open();
        }
        if (this.hostAccess) {
          const relay = new HostRelay(this.gateway.events, '127.0.0.1', this);
          const stack = this.gateway.root('NetworkManager')?.gateway;
          if (stack === undefined) {
            throw new PackageResolutionError(
              this.gateway.packageOf('NetworkManager') ?? '(no NetworkManager)',
              "cannot serve as the gateway: its root has no gateway (NetworkManagerRoot.gateway, listenAnyPort), which host access needs",
            );
          }
          await this.gateway.runOn(0, () => relay.open(stack));
          this.hostRelay = relay;
        }
      }
      if (this.config.tap !== undefined) await this.startTap(log);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  private async startTap(log: (line: string) => void): Promise<void> {
    const tap = this.config.tap!;
    const subnet = this.simulated.subnet;
    const address = tap.address ?? subnet.host(subnet.hostCount);
    if (!subnet.contains(address)) throw new ConfigError('config.network.tap.address', `${address} is outside ${subnet.text}`);
    const reason = await tapUnavailableReason();
    if (reason !== undefined) {
      if (tap.required) throw new ConfigError('config.network.tap', `cannot create a TAP device: ${reason} (or set required: false)`);
      this.tapSkipped = reason;
      log(`network: no TAP device (${reason}); the port forwards still work`);
      return;
    }
    let relay = tap.relay;
    if (relay === 'helper') {
      // Never required: socat does the same job one frame per datagram, so a machine without a C
      // compiler still gets its TAP (`required` is about the TAP, not about the helper).
      try {
        await tapHelperBinary();
      } catch (e) {
        this.tapRelayFallback = e instanceof Error ? e.message : String(e);
        log(`network: the TAP helper is unavailable (${this.tapRelayFallback}); socat relays instead`);
        relay = 'socat';
      }
    }
    this.tap = await TapUplink.open(this.simulation, this.simulated.fabric, {
      name: tap.name,
      address: `${address}/${subnet.prefixLength}`,
      socketBufferBytes: tap.socketBufferBytes,
      mtu: tap.mtu,
      relay,
    });
  }

  /** Lines telling a user where to connect. */
  describe(nodes: number): string[] {
    const subnet = this.simulated.subnet;
    const lines = [`network: ${subnet.text}; ${Array.from({ length: nodes }, (_, i) => `node ${i + 1} = ${subnet.host(nodeHost(i + 1))}`).join(', ')}`];
    for (const f of this.forwards) {
      lines.push(`network: ${f.target.listen.host}:${f.port} → ${f.target.address}:${f.target.port} (port forward through the gateway at ${subnet.host(GATEWAY_HOST)})`);
    }
    if (this.config.hostAccess.length > 0) {
      const ports = this.config.hostAccess.join(', ');
      lines.push(`network: the nodes (only) reach the host's 127.0.0.1 at ${subnet.host(GATEWAY_HOST)} on port${this.config.hostAccess.length === 1 ? '' : 's'} ${ports}`);
    }
    if (this.tap !== undefined) lines.push(`network: TAP ${this.tap.options.name} at ${this.tap.options.address}: the host reaches the nodes directly`);
    return lines;
  }

  async close(): Promise<void> {
    await Promise.all([...this.forwards, ...this.nodeForwards.values()].map((f) => f.close()));
    this.nodeForwards.clear();
    this.hostRelay?.close();
    await this.tap?.close();
    this.tapCounters = this.tap?.counters();
    this.tap = undefined;
    this.gateway?.events.shutdown();
    this.simulated.close();
  }
}

/** Waits for the gateway's stack to finish bring-up (NetworkManagerRoot.whenReady, when it has one). */
function gatewayReady(gateway: GatewayNode): Promise<void> {
  const root = gateway.root('NetworkManager');
  if (root?.whenReady === undefined) return Promise.resolve();
  return new Promise((ok, fail) => root.whenReady!(ok, fail));
}

/** The config's NIC faults, checked by the device's own validator; an error names the config field. */
function nicFaults(config: NetworkConfig): VirtioNetFaults | undefined {
  if (config.nic.faults === undefined) return undefined;
  try {
    return validateVirtioNetFaults(config.nic.faults);
  } catch (error) {
    const detail = (error as Error).message.replace(/^virtio-net faults\.?/, '');
    const field = /^([\w.]+) must/.exec(detail)?.[1];
    throw new ConfigError(field === undefined ? 'config.network.nic.faults' : `config.network.nic.faults.${field}`, detail.replace(/^[\w.]+ /, ''));
  }
}
