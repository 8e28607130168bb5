import { spawn, type ChildProcess } from 'node:child_process';
import {
  IntrospectAsks,
  UsageError,
  type AgentFromNode as FromNode,
  type AgentToNode as ToNode,
  type FrontendLink,
  type ManagedPlatform,
  type IntrospectOptions,
  type NodeIntrospection,
  type NodeRuntimeInfo,
  type NodeShape,
  type PlatformHost,
  type PlatformNode,
} from '@ebbrt/interfaces';
import type { ProcessPlatformOptions } from './options.js';

/**
 * One OS process per back-end node: the seam to multi-host deployment. Each node process runs the
 * runtime's node agent (`PlatformHost.agent`): its own simulation with the node and a gateway;
 * Messengers meet over real loopback TCP through each process's port forward. A cluster platform
 * starts the same agent on another machine (srun, ssh) and speaks the same protocol.
 */
export class ProcessPlatform implements ManagedPlatform {
  readonly kind = 'process';
  private nextId = 1;
  private readonly nodes = new Map<number, ProcessNode>();
  /**
   * Processes spawned but not yet dormant. They count as live: a run that ends while the pool is
   * refilling destroys them too (2026-12-07: a refill still booting when distributed.bench's app
   * ended went dormant afterwards, unknown to anyone, and its IPC kept `pnpm bench` alive).
   */
  private readonly booting = new Set<ProcessNode>();
  private readonly activatedListeners: ((node: PlatformNode) => void)[] = [];

  constructor(
    readonly host: PlatformHost,
    readonly options: ProcessPlatformOptions,
  ) {}

  /** The front-end's link: nodes report over it, and it learns where each node listens. */
  get link(): FrontendLink {
    const link = this.host.frontend();
    if (link === undefined) throw new UsageError("@ebbrt/platform-process: the run has no front-end Messenger link (it needs clock: 'realtime' and a network)");
    return link;
  }

  async boot(shape: NodeShape): Promise<ProcessNode> {
    const id = this.nextId++;
    const { command, args } = this.host.agent;
    const child = spawn(command, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const node = new ProcessNode(id, shape, child, this);
    const { app } = this.host;
    this.booting.add(node);
    try {
      const dormant = await node.expect('dormant', this.options.bootTimeoutMs, {
        type: 'boot',
        appDir: app.dir,
        configFile: app.configFile,
        resolveFrom: app.resolveFrom,
        networkId: id,
        cores: shape.cores,
        memoryBytes: shape.memoryBytes,
        seed: app.seed + id,
        frontend: this.link.messenger,
      });
      node.forwardPort = dormant.forwardPort;
    } catch (error) {
      await node.destroy();
      throw error;
    } finally {
      this.booting.delete(node);
    }
    // Destroyed while booting (the run ended): its process is gone; it must not come back as live.
    if (node.destroyed) throw new Error(`node ${id} was destroyed while booting`);
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): ProcessNode | undefined {
    return this.nodes.get(id);
  }

  /** Booted nodes, then those still booting (dormant soon): everything a run's end must destroy. */
  get liveNodes(): readonly ProcessNode[] {
    return [...this.nodes.values(), ...this.booting];
  }

  onActivated(listener: (node: PlatformNode) => void): void {
    this.activatedListeners.push(listener);
  }

  /** @internal */
  async activate(node: ProcessNode, info: NodeRuntimeInfo): Promise<void> {
    const link = this.link;
    // Every node process is on this host: each peer is its port forward on the loopback.
    const peers = this.liveNodes.filter((n) => n !== node && n.activated).map((n) => ({ id: n.networkId, host: LOOPBACK, port: n.forwardPort }));
    link.setPeer(node.networkId, LOOPBACK, node.forwardPort);
    for (const other of this.liveNodes) if (other !== node && other.activated) other.post({ type: 'peer', id: node.networkId, host: LOOPBACK, port: node.forwardPort });
    const reported = link.reported(node.networkId);
    node.activated = true;
    await node.expect('started', this.options.bootTimeoutMs, {
      type: 'activate',
      image: info.image,
      args: info.args,
      frontend: link.messenger,
      peers,
    });
    for (const l of this.activatedListeners) l(node);
    await Promise.race([reported, node.exited.then((cause) => Promise.reject(cause))]);
  }

  /** @internal */
  release(node: ProcessNode): void {
    if (!this.nodes.delete(node.networkId)) return;
    this.host.frontend()?.unlink(node.networkId);
    for (const other of this.nodes.values()) other.post({ type: 'forget', id: node.networkId });
  }
}

const LOOPBACK = '127.0.0.1';

export class ProcessNode implements PlatformNode {
  forwardPort = 0;
  activated = false;
  destroyed = false;
  readonly died: Promise<Error>;
  /** Resolves with the cause when the process exits, expectedly or not. */
  readonly exited: Promise<Error>;
  private readonly waiters = new Map<FromNode['type'], (message: FromNode) => void>();
  private readonly asks: IntrospectAsks;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    readonly child: ChildProcess,
    private readonly platform: ProcessPlatform,
  ) {
    const { host } = platform;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(new Error(`node ${networkId}'s process exited (${signal ?? `code ${code}`})`)));
      child.once('error', (e) => resolve(new Error(`node ${networkId}'s process failed: ${e.message}`)));
    });
    this.asks = new IntrospectAsks(`node ${networkId}`, (m) => this.post(m));
    void this.exited.then((cause) => this.asks.fail(cause));
    this.died = this.exited.then((cause) => {
      if (!this.destroyed) platform.release(this);
      return cause;
    });
    child.on('message', (message: FromNode) => {
      switch (message.type) {
        case 'line':
          host.output(message.line);
          return;
        case 'failure':
          host.reportFailure({ node: networkId, core: message.core, eventId: message.eventId, error: new Error(message.message) });
          return;
        case 'exit':
          host.requestExit(message.code);
          return;
        case 'introspection':
          this.asks.answer(message.seq, message.data);
          return;
        case 'error':
          if (this.waiters.size === 0) host.reportFailure({ node: networkId, core: 0, eventId: 0, error: new Error(message.message) });
          break;
      }
      const waiter = this.waiters.get(message.type) ?? (message.type === 'error' ? [...this.waiters.values()][0] : undefined);
      if (waiter !== undefined) waiter(message);
    });
  }

  /** Sends `request` and waits for a reply of `type`; an error reply, exit or timeout rejects. */
  expect<T extends FromNode['type']>(type: T, timeoutMs: number, request: ToNode): Promise<Extract<FromNode, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`node ${this.networkId} did not answer ${request.type} within ${timeoutMs} ms`)), timeoutMs);
      const done = (error?: Error, message?: FromNode): void => {
        clearTimeout(timer);
        this.waiters.delete(type);
        if (error !== undefined) reject(error);
        else resolve(message as Extract<FromNode, { type: T }>);
      };
      this.waiters.set(type, (message) => (message.type === 'error' ? done(new Error(message.message)) : done(undefined, message)));
      void this.exited.then((cause) => done(cause));
      this.post(request);
    });
  }

  post(message: ToNode): void {
    // A node on its way out (killed, exiting) refuses the write: that is not the front-end's error.
    if (this.child.connected) this.child.send(message, () => undefined);
  }

  activate(info: NodeRuntimeInfo): Promise<void> {
    return this.platform.activate(this, info);
  }

  /** Asks the node's agent for its Ebbs' stats over the control channel (a dashboard snapshot). */
  introspect(options: IntrospectOptions = {}): Promise<NodeIntrospection> {
    return this.asks.ask(options);
  }

  /** Simulates a crash: the node's process is killed outright. */
  kill(_reason?: string): void {
    this.child.kill('SIGKILL');
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.platform.release(this);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
    await this.exited;
    clearTimeout(force);
  }
}
