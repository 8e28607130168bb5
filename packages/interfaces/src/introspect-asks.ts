/**
 * A platform's side of the `introspect` / `introspection` exchange with node agents on a control
 * channel (Node IPC for platform-process, a TCP line channel for platform-slurm): numbers each ask,
 * matches answers by `seq`, and rejects an ask that gets no answer in time or whose node died.
 * Both platforms use this one so the exchange cannot drift apart between them.
 */
import type { IntrospectOptions, NodeIntrospection } from './introspection.js';
import type { AgentToNode } from './platform.js';

interface Pending {
  resolve(data: NodeIntrospection): void;
  reject(cause: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class IntrospectAsks {
  private nextSeq = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;

  /**
   * @param who names the node in a timeout's error (`node 3`, `node 3 (slurm job 17)`).
   * @param post sends one message to the node's agent.
   */
  constructor(
    private readonly who: string,
    private readonly post: (message: Extract<AgentToNode, { type: 'introspect' }>) => void,
    private readonly timeoutMs = 2_000,
  ) {}

  /** Asks the node's agent for its Ebbs' stats (and its trace after `traceAfter`, when given). */
  ask(options: IntrospectOptions = {}): Promise<NodeIntrospection> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`${this.who} did not answer introspect within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      this.post(options.traceAfter !== undefined ? { type: 'introspect', seq, traceAfter: options.traceAfter } : { type: 'introspect', seq });
    });
  }

  /** The agent's `introspection` message: resolves the ask with that `seq` (a late or unknown one is dropped). */
  answer(seq: number, data: NodeIntrospection): void {
    const p = this.pending.get(seq);
    if (p === undefined) return;
    this.pending.delete(seq);
    clearTimeout(p.timer);
    p.resolve(data);
  }

  /** The node is gone: every pending ask and every later one rejects with `cause`. */
  fail(cause: Error): void {
    this.dead ??= cause;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(cause);
    }
    this.pending.clear();
  }
}
