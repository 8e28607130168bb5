import { randomUUID } from 'node:crypto';
import { UsageError, type FrontendLink, type ManagedPlatform, type NodeRuntimeInfo, type NodeShape, type PlatformHost, type PlatformNode } from '@ebbrt/interfaces';
import { ControlServer } from './control-server.js';
import { JobWatch } from './job-watch.js';
import { splitHostPort, type SlurmPlatformOptions } from './options.js';
import { SlurmCommands, describeJob, shellWord } from './slurm.js';
import { SlurmNode } from './node.js';

/**
 * Back-end nodes as Slurm jobs. Boot submits a job (`sbatch --parsable`) that runs the runtime's
 * node agent; the agent dials the front-end's one control port (EBBRT_AGENT_CONTROL, its launch
 * named by EBBRT_AGENT_TOKEN) and boots to dormant; free cancels the job; the job ending (in
 * any way) is the node's death, named by its job id and Slurm's state and reason.
 */
export class SlurmPlatform implements ManagedPlatform {
  readonly kind = 'slurm';
  readonly slurm: SlurmCommands;
  readonly watch: JobWatch;
  private control: ControlServer | undefined;
  private nextId = 1;
  private readonly nodes = new Map<number, SlurmNode>();
  /**
   * Nodes from boot() until dormant (sbatch included). They count as live: a run that ends while
   * the pool is refilling frees them too, so their jobs are cancelled (the process platform's
   * 2026-12-07 leak: a refill still booting went dormant after the run, owned by nobody).
   */
  private readonly booting = new Set<SlurmNode>();
  private readonly activatedListeners: ((node: PlatformNode) => void)[] = [];
  private readonly advertise: { host: string; port: number };

  constructor(
    readonly host: PlatformHost,
    readonly options: SlurmPlatformOptions,
  ) {
    this.slurm = new SlurmCommands(options);
    this.watch = new JobWatch(this.slurm, options.pollMs);
    this.advertise = splitHostPort(options.frontendAddress);
  }

  get link(): FrontendLink {
    const link = this.host.frontend();
    if (link === undefined) throw new UsageError("@ebbrt/platform-slurm: the run has no front-end Messenger link (it needs clock: 'realtime' and a network)");
    return link;
  }

  /** The front-end's Messenger as the compute nodes reach it: the advertised host, its real port. */
  get frontendMessenger(): { host: string; port: number } {
    return { host: this.advertise.host, port: this.link.messenger.port };
  }

  private async controlPort(): Promise<number> {
    this.control ??= new ControlServer(this.options.frontendBind, this.advertise.port);
    return this.control.listening;
  }

  /** The job's command line: the node agent with the control address and its launch token. */
  jobScript(token: string, controlPort: number): string {
    const { command, args } = this.host.agent;
    const argv = [this.options.nodeCommand ?? command, ...args];
    if (this.options.nodeEntry !== undefined) argv[argv.length - 1] = this.options.nodeEntry;
    const env = [`EBBRT_AGENT_CONTROL=${this.advertise.host}:${controlPort}`, `EBBRT_AGENT_TOKEN=${token}`, `EBBRT_AGENT_BIND=${this.options.nodeBind}`];
    return `exec env ${env.map(shellWord).join(' ')} ${argv.map(shellWord).join(' ')}`;
  }

  async boot(shape: NodeShape): Promise<SlurmNode> {
    const id = this.nextId++;
    const node = new SlurmNode(id, shape, this);
    this.booting.add(node);
    const token = randomUUID();
    const { app } = this.host;
    const deadline = this.options.bootTimeoutMs;
    let control: ControlServer | undefined;
    try {
      // The allocator refills its pool right as it hands a node out; spawning sbatch is a
      // synchronous fork, so it waits for the next macrotask rather than delay that hand-out.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const server = await this.controlPort().then(() => this.control!);
      control = server;
      const port = await server.listening;
      let arrived!: (c: import('./control-server.js').ControlConnection) => void;
      const connection = new Promise<import('./control-server.js').ControlConnection>((r) => (arrived = r));
      server.expect(token, (c) => arrived(c));
      await node.submit(() =>
        this.slurm.submit(`ebbrt-node-${id}`, shape.cores, this.jobScript(token, port), this.options.appDir ?? app.dir).catch((error: Error) => {
          throw new Error(`@ebbrt/platform-slurm: node ${id}: ${error.message}`);
        }),
      );
      const started = performance.now();
      const c = await node.waitFor(connection, deadline, 'dial the front-end');
      node.attach(c);
      const dormant = await node.expect('dormant', Math.max(1, deadline - (performance.now() - started)), {
        type: 'boot',
        appDir: this.options.appDir ?? app.dir,
        configFile: app.configFile,
        resolveFrom: app.resolveFrom,
        networkId: id,
        cores: shape.cores,
        memoryBytes: shape.memoryBytes,
        seed: app.seed + id,
        frontend: this.frontendMessenger,
      });
      node.forwardPort = dormant.forwardPort;
    } catch (error) {
      control?.forget(token);
      await node.destroy();
      throw error;
    } finally {
      this.booting.delete(node);
    }
    // Freed while booting (the run ended): its job is cancelled; it must not come back as live.
    if (node.destroyed) throw new Error(`node ${id} (slurm job ${node.jobId}) was freed while booting; the job is cancelled`);
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): SlurmNode | undefined {
    return this.nodes.get(id);
  }

  /** Booted nodes, then those still booting: everything a run's end must free. */
  get liveNodes(): readonly SlurmNode[] {
    return [...this.nodes.values(), ...this.booting];
  }

  onActivated(listener: (node: PlatformNode) => void): void {
    this.activatedListeners.push(listener);
  }

  /** @internal */
  async activate(node: SlurmNode, info: NodeRuntimeInfo): Promise<void> {
    const link = this.link;
    const others = this.liveNodes.filter((n) => n !== node && n.activated);
    // A node's Messenger is its forward on its compute host, at the address the front-end sees it.
    link.setPeer(node.networkId, node.nodeHost, node.forwardPort);
    for (const other of others) other.post({ type: 'peer', id: node.networkId, host: node.nodeHost, port: node.forwardPort });
    const reported = link.reported(node.networkId);
    node.activated = true;
    await node.expect('started', this.options.bootTimeoutMs, {
      type: 'activate',
      image: info.image,
      args: info.args,
      frontend: this.frontendMessenger,
      peers: others.map((n) => ({ id: n.networkId, host: n.nodeHost, port: n.forwardPort })),
    });
    for (const l of this.activatedListeners) l(node);
    await Promise.race([reported, node.died.then((cause) => Promise.reject(cause))]);
  }

  /** @internal */
  release(node: SlurmNode): void {
    if (!this.nodes.delete(node.networkId)) return;
    this.host.frontend()?.unlink(node.networkId);
    for (const other of this.nodes.values()) other.post({ type: 'forget', id: node.networkId });
    if (this.nodes.size === 0) this.watch.unwatch(node.jobId);
  }

  /** @internal */
  describe(jobId: string): Promise<string> {
    return this.slurm.show(jobId).then(describeJob);
  }
}
