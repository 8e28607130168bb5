import { IntrospectAsks, type AgentFromNode as FromNode, type AgentToNode as ToNode, type IntrospectOptions, type NodeIntrospection, type NodeRuntimeInfo, type NodeShape, type PlatformNode } from '@ebbrt/interfaces';
import type { ControlConnection } from './control-server.js';
import type { SlurmPlatform } from './platform.js';
import { describeJob, type JobState } from './slurm.js';

/** A back-end node that is Slurm job `jobId`: its control connection, its death, its cancel. */
export class SlurmNode implements PlatformNode {
  forwardPort = 0;
  activated = false;
  destroyed = false;
  connection: ControlConnection | undefined;
  readonly died: Promise<Error>;
  private die!: (cause: Error) => void;
  private readonly waiters = new Map<FromNode['type'], (message: FromNode) => void>();
  /** Dashboard asks: the job runs the same node agent as platform-process, so it answers them on its control connection. */
  private readonly asks: IntrospectAsks;

  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    readonly jobId: string,
    private readonly platform: SlurmPlatform,
  ) {
    this.died = new Promise((resolve) => (this.die = resolve));
    this.asks = new IntrospectAsks(`node ${networkId} (slurm job ${jobId})`, (m) => this.post(m));
    void this.died.then((cause) => this.asks.fail(cause));
    void this.died.then(() => {
      if (!this.destroyed) platform.release(this);
    });
    platform.watch.watch(jobId, (final) => this.ended(final));
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
          this.asks.answer(message.seq, message.data);
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
    if (this.connection === undefined) return Promise.reject(new Error(`node ${this.networkId} (slurm job ${this.jobId}) has not dialled the control port yet`));
    return this.asks.ask(options);
  }

  /** A crash as the cluster would cause it: the job is cancelled under the node. */
  kill(_reason?: string): void {
    void this.platform.slurm.cancel(this.jobId).catch(() => undefined);
  }

  /** Frees the node: cancels its job and closes its control connection. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.platform.release(this);
    this.platform.watch.unwatch(this.jobId);
    await this.platform.slurm.cancel(this.jobId).catch(() => undefined);
    this.connection?.close();
  }
}
