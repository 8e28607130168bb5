import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DormantNode, EventFailure, NodePlatform, NodeRuntimeInfo, NodeShape } from '@ebbrt/interfaces';
import type { MessengerLink } from './messenger-link.js';
import type { FromNode, ToNode } from './process-protocol.js';

export interface ProcessPlatformDeps {
  appDir: string;
  configFile: string | undefined;
  resolveFrom: readonly string[];
  seed: number;
  output(line: string): void;
  onFailure(failure: EventFailure): void;
  onExitRequest(code: number): void;
  /** Reports from nodes arrive over the front-end's Messenger (the runtime agent's READY); its directory learns each node's port. */
  link: MessengerLink;
  bootTimeoutMs?: number;
}

/** From the sources, the child needs tsx and the `source` condition too; from the build, plain Node. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = fileURLToPath(new URL(FROM_SOURCE ? './node-process-entry.ts' : './platform/node-process-entry.js', import.meta.url));

/**
 * One OS process per back-end node: the seam to multi-host deployment. Each node process runs its
 * own simulation (the node and a gateway); Messengers meet over real loopback TCP through each
 * process's port forward. A multi-host backend would fork the same entry on another machine (ssh,
 * a container API) and address peers by host instead of 127.0.0.1.
 */
export class ProcessPlatform implements NodePlatform {
  readonly kind = 'process';
  private nextId = 1;
  private readonly nodes = new Map<number, ProcessNode>();
  private activatedListeners: ((node: ProcessNode) => void)[] = [];

  constructor(readonly deps: ProcessPlatformDeps) {}

  async boot(shape: NodeShape): Promise<DormantNode> {
    const id = this.nextId++;
    const child = fork(ENTRY, [], {
      execArgv: FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), '--conditions=source'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const node = new ProcessNode(id, shape, child, this);
    try {
      const dormant = await node.expect('dormant', this.deps.bootTimeoutMs ?? 30_000, {
        type: 'boot',
        appDir: this.deps.appDir,
        configFile: this.deps.configFile,
        resolveFrom: this.deps.resolveFrom,
        networkId: id,
        cores: shape.cores,
        memoryBytes: shape.memoryBytes,
        seed: this.deps.seed + id,
        frontendPort: this.deps.link.frontendPeers.port,
      });
      node.forwardPort = dormant.forwardPort;
    } catch (error) {
      await node.destroy();
      throw error;
    }
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): ProcessNode | undefined {
    return this.nodes.get(id);
  }

  get liveNodes(): readonly ProcessNode[] {
    return [...this.nodes.values()];
  }

  onActivated(listener: (node: ProcessNode) => void): void {
    this.activatedListeners.push(listener);
  }

  /** @internal */
  async activate(node: ProcessNode, info: NodeRuntimeInfo): Promise<void> {
    const { link } = this.deps;
    const frontend = link.frontendPeers;
    const peers = this.liveNodes.filter((n) => n !== node && n.activated).map((n) => ({ id: n.networkId, port: n.forwardPort }));
    frontend.setPeer(node.networkId, '127.0.0.1', node.forwardPort);
    for (const other of this.liveNodes) if (other !== node && other.activated) other.post({ type: 'peer', id: node.networkId, port: node.forwardPort });
    const reported = link.reported(node.networkId);
    node.activated = true;
    await node.expect('started', this.deps.bootTimeoutMs ?? 30_000, {
      type: 'activate',
      image: info.image,
      args: info.args,
      frontendPort: frontend.port,
      peers,
    });
    for (const l of this.activatedListeners) l(node);
    await Promise.race([reported, node.exited.then((cause) => Promise.reject(cause))]);
  }

  /** @internal */
  release(node: ProcessNode): void {
    if (!this.nodes.delete(node.networkId)) return;
    this.deps.link.unlink(node.networkId);
    for (const other of this.nodes.values()) other.post({ type: 'forget', id: node.networkId });
  }
}

export class ProcessNode implements DormantNode {
  forwardPort = 0;
  activated = false;
  destroyed = false;
  readonly died: Promise<Error>;
  /** Resolves with the cause when the process exits, expectedly or not. */
  readonly exited: Promise<Error>;
  private readonly waiters = new Map<FromNode['type'], (message: FromNode) => void>();

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    readonly child: ChildProcess,
    private readonly platform: ProcessPlatform,
  ) {
    const { deps } = platform;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(new Error(`node ${networkId}'s process exited (${signal ?? `code ${code}`})`)));
      child.once('error', (e) => resolve(new Error(`node ${networkId}'s process failed: ${e.message}`)));
    });
    this.died = this.exited.then((cause) => {
      if (!this.destroyed) platform.release(this);
      return cause;
    });
    child.on('message', (message: FromNode) => {
      switch (message.type) {
        case 'line':
          deps.output(message.line);
          return;
        case 'failure':
          deps.onFailure({ node: networkId, core: message.core, eventId: message.eventId, error: new Error(message.message) });
          return;
        case 'exit':
          deps.onExitRequest(message.code);
          return;
        case 'error':
          if (this.waiters.size === 0) deps.onFailure({ node: networkId, core: 0, eventId: 0, error: new Error(message.message) });
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
