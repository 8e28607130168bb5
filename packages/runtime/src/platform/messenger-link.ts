import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type FrontendLink, type Messenger, type MessengerDirectory, type Timer } from '@ebbrt/interfaces';
import type { BootedNode } from '../boot/boot-node.js';
import type { AppNetwork } from '@ebbrt/host-network';

/** The runtime's own Ebb on every node: node agents report to the front-end's under this id. */
export const AGENT_EBB_ID = staticEbbId('ebbrt.runtime.agent');
const READY = 1;
/** Sent by a dormant node to open its connection to the front-end ahead of time. */
const WARM_UP = 2;
/** A node keeps trying to report (the front-end's way in may still be coming up) for this long. */
const REPORT_ATTEMPTS = 200;
const REPORT_RETRY_US = 50_000;

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/** A node's Messenger directory (every Messenger root is one: `MessengerRoot` in @ebbrt/interfaces). */
function directoryOf(node: BootedNode): MessengerDirectory | undefined {
  return node.root('Messenger');
}

/**
 * Joins the Messengers of the front-end and the back-ends into one application. Node ids are not
 * addresses, so the runtime fills every directory: back-ends reach each other on the simulated
 * network, the front-end through a port forward per node, and back-ends reach the front-end at
 * the gateway (host access). A node reports back by sending READY to the front-end's agent.
 */
export class MessengerLink implements FrontendLink {
  private readonly linked = new Map<number, { directory: MessengerDirectory; address: string; port: number; forward: number }>();
  private readonly waiting = new Map<number, () => void>();
  private frontendDirectory: MessengerDirectory | undefined;

  constructor(
    /** The simulated network in this process (in-process nodes); undefined when nodes run elsewhere. */
    private readonly network: AppNetwork | undefined,
    private readonly frontend: BootedNode,
    /**
     * Virtual clock: the front-end's Messenger is on the simulated network through the gateway
     * bridge. Its directory then holds the nodes' own addresses (no host forwards), and nodes do
     * not report over the network (their agent event running is the report, as before the link):
     * a node's traffic to the front-end is only what the app offloads.
     */
    readonly bridged = false,
  ) {}

  /** Whether nodes report READY (and warm up) over the Messenger: only through host sockets. */
  get reportsOverNetwork(): boolean {
    return !this.bridged;
  }

  /** The front-end Messenger's directory (after {@link start}). */
  get frontendPeers(): MessengerDirectory {
    if (this.frontendDirectory === undefined) throw new Error('MessengerLink: the front-end has no Messenger');
    return this.frontendDirectory;
  }

  /** Where node processes on this host reach the front-end's Messenger. */
  get messenger(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.frontendPeers.port };
  }

  /** Node `networkId`'s Messenger is at `address:port` (from this host): the front-end's directory learns it. */
  setPeer(networkId: number, address: string, port: number): void {
    this.frontendPeers.setPeer(networkId, address, port);
  }

  /** Whether the front-end takes part (it has a Messenger). */
  get active(): boolean {
    return directoryOf(this.frontend) !== undefined;
  }

  /** Waits for the front-end's Messenger to listen and starts taking READY reports. */
  async start(): Promise<void> {
    this.frontendDirectory = directoryOf(this.frontend);
    if (this.frontendDirectory === undefined) return;
    await this.frontendDirectory.listening;
    // The nodes reach the front-end's Messenger at the gateway: that port, and no other, is what
    // the link opens of the host (issue 11: host access was every loopback port, for anyone).
    this.network?.openHostPort(this.frontendDirectory.port);
    await this.frontend.runOn(0, () => messengerRef.deref().register(AGENT_EBB_ID, (from, type, message) => {
      message.releaseChain();
      if (type !== READY) return; // a warm-up: the connection is what it was for
      const ready = this.waiting.get(from);
      this.waiting.delete(from);
      ready?.();
    }));
  }

  /** Fills the directories for a node about to start; resolves when its forward listens. */
  async link(node: BootedNode): Promise<void> {
    const fe = this.frontendDirectory;
    const directory = directoryOf(node);
    if (fe === undefined || directory === undefined || this.network === undefined) return;
    const id = node.context.id;
    const address = this.network.simulated.subnet.host(id + 1);
    const port = directory.port;
    const forward = this.bridged ? 0 : await this.network.forwardToNode(id, port);
    if (this.bridged) fe.setPeer(id, address, port);
    else fe.setPeer(id, '127.0.0.1', forward);
    directory.setPeer(0, this.network.gatewayAddress, fe.port);
    for (const [otherId, other] of this.linked) {
      directory.setPeer(otherId, other.address, other.port);
      other.directory.setPeer(id, address, port);
    }
    this.linked.set(id, { directory, address, port, forward });
  }

  /** Resolves when node `id` has reported back. */
  reported(id: number): Promise<void> {
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  /** Runs on the node (its agent event): reports READY to the front-end, retrying while the way in comes up. */
  static report(): Promise<void> {
    return sendToFrontEnd(READY, 'ready');
  }

  /**
   * Runs on a dormant node: opens its Messenger connection to the front-end now, so that when it
   * is handed out, reporting back is one message on a warm connection (the dormant pool's point).
   */
  static warmUp(): Promise<void> {
    return sendToFrontEnd(WARM_UP, 'warm').catch(() => undefined);
  }

  /** Whether {@link link} has run for node `id`. */
  isLinked(id: number): boolean {
    return this.linked.has(id);
  }

  /** A node is gone: nobody should still send to it. */
  unlink(id: number): void {
    this.waiting.delete(id);
    this.frontendDirectory?.forgetPeer(id);
    if (!this.linked.delete(id)) return;
    for (const other of this.linked.values()) other.directory.forgetPeer(id);
    if (!this.bridged) this.network?.closeNodeForward(id);
  }
}

/** Sends to the front-end's agent, retrying while the front-end's way in (gateway, forward) comes up. */
async function sendToFrontEnd(type: number, text: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await messengerRef.deref().send(0, AGENT_EBB_ID, type, IOBuf.copyOf(text));
      return;
    } catch (error) {
      if (attempt >= REPORT_ATTEMPTS) throw error;
      await timerRef.deref().sleep(REPORT_RETRY_US);
    }
  }
}
