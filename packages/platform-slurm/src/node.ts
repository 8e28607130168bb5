import { IntrospectAsks, type AgentFromNode as FromNode, type AgentToNode as ToNode, type IntrospectOptions, type NodeIntrospection, type NodeRuntimeInfo, type NodeShape, type PlatformNode } from '@ebbrt/interfaces';
import type { ControlConnection } from './control-server.js';
import type { SlurmPlatform } from './platform.js';
import { describeJob, type JobState } from './slurm.js';

/** A back-end node that is Slurm job `jobId`: its control connection, its death, its cancel. */
export class SlurmNode implements PlatformNode {
  /** Slurm's id of the node's job: '' until sbatch answers ({@link submit}). */
  jobId = '';
  forwardPort = 0;
  activated = false;
  destroyed = false;
  connection: ControlConnection | undefined;
  readonly died: Promise<Error>;
  private die!: (cause: Error) => void;
  private readonly waiters = new Map<FromNode['type'], (message: FromNode) => void>();
  /** Dashboard asks: the job runs the same node agent as platform-process, so it answers them on its control connection. */
  private asks: IntrospectAsks | undefined;
  /** sbatch and, for a node freed before it answered, the cancel of the job it made. */
  private submission: Promise<unknown> = Promise.resolve();
  /** Resolves when the node is freed: a boot still waiting on it fails then, not at its deadline. */
  private readonly freed: Promise<void>;
  private free!: () => void;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    private readonly platform: SlurmPlatform,
  ) {
    this.died = new Promise((resolve) => (this.die = resolve));
    this.freed = new Promise((resolve) => (this.free = resolve));
    void this.died.then((cause) => this.asks?.fail(cause));
    void this.died.then(() => {
      if (!this.destroyed) platform.release(this);
    });
  }

  /**
   * Runs `sbatch` for this node and watches the job it makes. The node exists (and counts as live)
   * before sbatch answers, so a run that ends meanwhile frees it: its job is cancelled as soon as
   * its id is known, and the boot fails.
   */
  submit(sbatch: () => Promise<string>): Promise<string> {
    if (this.destroyed) return Promise.reject(new Error(`node ${this.networkId} was freed before its job was submitted`));
    const job = sbatch().then(async (jobId) => {
      this.jobId = jobId;
      this.asks = new IntrospectAsks(`node ${this.networkId} (slurm job ${jobId})`, (m) => this.post(m));
      if (this.destroyed) {
        await this.platform.slurm.cancel(jobId).catch(() => undefined);
        throw new Error(`node ${this.networkId} (slurm job ${jobId}) was freed while sbatch ran; the job is cancelled`);
      }
      this.platform.watch.watch(jobId, (final) => this.ended(final));
      return jobId;
    });
    this.submission = job.catch(() => undefined);
    return job;
  }

  /** Where the front-end reaches this node's Messenger forward: its compute host. */
  get nodeHost(): string {
    return this.connection?.remoteHost ?? '127.0.0.1';
  }

  private ended(final: JobState | undefined): void {
    this.die(new Error(`node ${this.networkId} (slurm job ${this.jobId}) ended: ${describeJob(final)}`));
  }

  /** Waits for `what` until `timeoutMs`, or the job's end, whichever comes first. */
  waitFor<T>(what: Promise<T>, timeoutMs: number, doing: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.platform
          .describe(this.jobId)
          .then((state) => reject(new Error(`node ${this.networkId} (slurm job ${this.jobId}) did not ${doing} within ${timeoutMs} ms (job ${state}); the job is cancelled`)));
      }, timeoutMs);
      void this.died.then((cause) => {
        clearTimeout(timer);
        reject(cause);
      });
      void this.freed.then(() => {
        clearTimeout(timer);
        reject(new Error(`node ${this.networkId} (slurm job ${this.jobId}) was freed before it could ${doing}; the job is cancelled`));
      });
      what.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  attach(connection: ControlConnection): void {
    this.connection = connection;
    const host = this.platform.host;
    const id = this.networkId;
    // The connection closing means the agent is gone: ask Slurm now rather than at the next round.
    void connection.closed.then(() => {
      if (this.destroyed) return;
      void this.platform.watch.poll();
      // A job whose agent exited but that Slurm still lists (a step epilog): dead anyway.
      setTimeout(() => void this.platform.describe(this.jobId).then((s) => this.die(new Error(`node ${id} (slurm job ${this.jobId}) ended: its agent closed the control connection; job ${s}`))), 8_000).unref();
    });
    connection.onMessage((message) => {
      switch (message.type) {
        case 'line':
          host.output(message.line);
          return;
        case 'failure':
          host.reportFailure({ node: id, core: message.core, eventId: message.eventId, error: new Error(message.message) });
          return;
        case 'exit':
          host.requestExit(message.code);
          return;
        case 'introspection':
          this.asks?.answer(message.seq, message.data);
          return;
        case 'error':
          if (this.waiters.size === 0) host.reportFailure({ node: id, core: 0, eventId: 0, error: new Error(message.message) });
          break;
      }
      const waiter = this.waiters.get(message.type) ?? (message.type === 'error' ? [...this.waiters.values()][0] : undefined);
      waiter?.(message);
    });
  }

  /** Sends `request` and waits for a reply of `type`; an error reply, the job's end or the timeout rejects. */
  expect<T extends FromNode['type']>(type: T, timeoutMs: number, request: ToNode): Promise<Extract<FromNode, { type: T }>> {
    const reply = new Promise<Extract<FromNode, { type: T }>>((resolve, reject) => {
      this.waiters.set(type, (message) => {
        this.waiters.delete(type);
        if (message.type === 'error') reject(new Error(`node ${this.networkId} (slurm job ${this.jobId}): ${message.message}`));
        else resolve(message as Extract<FromNode, { type: T }>);
      });
    });
    this.post(request);
    return this.waitFor(reply, timeoutMs, `answer ${request.type}`).finally(() => this.waiters.delete(type));
  }

  post(message: ToNode): void {
    this.connection?.send(message);
  }

  activate(info: NodeRuntimeInfo): Promise<void> {
    return this.platform.activate(this, info);
  }

  /**
   * Reads the node's Ebbs' stats, cores and (with `traceAfter`) trace from its agent, over the
   * control connection. Before the job has dialled in there is nobody to ask: it rejects at once.
   */
  introspect(options: IntrospectOptions = {}): Promise<NodeIntrospection> {
    if (this.connection === undefined || this.asks === undefined) return Promise.reject(new Error(`node ${this.networkId} (slurm job ${this.jobId}) has not dialled the control port yet`));
    return this.asks.ask(options);
  }

  /** A crash as the cluster would cause it: the job is cancelled under the node. */
  kill(_reason?: string): void {
    if (this.jobId === '') return; // no job yet: nothing the cluster could kill
    void this.platform.slurm.cancel(this.jobId).catch(() => undefined);
  }

  /** Frees the node: cancels its job and closes its control connection. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.free();
    this.platform.release(this);
    // sbatch has not answered: submit cancels the job once its id is known, and this waits for that.
    if (this.jobId === '') return void (await this.submission);
    this.platform.watch.unwatch(this.jobId);
    await this.platform.slurm.cancel(this.jobId).catch(() => undefined);
    this.connection?.close();
  }
}
