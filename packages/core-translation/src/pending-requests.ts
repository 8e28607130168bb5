import { SystemEbbIds, type CorePromise, type EventManager, type Timer, type TimerHandle } from '@ebbrt/interfaces';
import type { CoreContext } from './core-context.js';
import type { OffloadFault } from './offload-faults.js';
import { EbbRef } from './ebb-ref.js';

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);
const timerRef = new EbbRef<Timer>(SystemEbbIds.Timer);

/**
 * How a {@link PendingRequests} table turns replies, timeouts and failed sends into outcomes.
 * Each outcome handler runs on the requesting core and returns the request's value or throws the
 * error to reject it with.
 */
export interface PendingRequestsOptions<T, C, R> {
  /**
   * The table of the core running now, e.g. `() => selfRef.deref().requests`: a reply delivered
   * on another core than its request's is settled there through it.
   */
  readonly here: () => PendingRequests<T, C, R>;
  /** The request's value from its reply (throw to reject); without it the reply itself is the value. */
  readonly reply?: (reply: R, context: C) => T;
  /** Microseconds an unanswered request waits, read per request; only armed when the node has a Timer Ebb. */
  readonly timeoutUs?: () => number;
  /** The outcome of a request that timed out (default: reject with a generic Error). */
  readonly timedOut?: (context: C) => T;
  /** The outcome of a request whose send threw or rejected (default: reject with the send's error). */
  readonly unsent?: (error: unknown, context: C) => T;
  /** Called for a reply that matches no pending request (late, duplicated, or for a core that does not exist). */
  readonly stray?: () => void;
  /** Called when a reply is forwarded to its request's core. */
  readonly forwarded?: () => void;
  /**
   * An injected fault for this request (see OffloadFaults), decided before it is sent: `fail`
   * rejects it with `failed(context)` and never sends it; `delay` sends it `us` µs later on the
   * Timer (the timeout still counts from the request).
   */
  readonly inject?: (context: C) => OffloadFault | undefined;
  /** The error a request failed by an injected fault rejects with (required with `inject`). */
  readonly failed?: (context: C) => unknown;
}

interface Entry<T, C> {
  readonly context: C;
  readonly result: CorePromise<T>;
  timer: TimerHandle | undefined;
}

/**
 * One core's requests awaiting a reply over the Messenger, keyed by a per-core request id
 * (1 .. 2^32-1, wrapping), the pattern of EbbRT's request/reply Ebbs. A request's promise resumes
 * on this core; a reply may arrive on any core of the node and {@link deliver} forwards it to the
 * requesting core. An unanswered request times out through the Timer Ebb (when the node has one);
 * a request whose send fails settles at once. `C` is what the caller keeps about each request
 * (an operation name, an accumulator) and `R` a reply as the caller decodes it.
 *
 * Keep one table per rep; settle requests (`settle`, `resolve`, `reject`, `context`) on the
 * requesting core only, or through `deliver` from any core.
 */
export class PendingRequests<T, C = undefined, R = never> {
  private nextId = 1;
  private readonly pending = new Map<number, Entry<T, C>>();

  constructor(
    readonly core: CoreContext,
    private readonly options: PendingRequestsOptions<T, C, R>,
  ) {}

  /** Requests pending on this core. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Starts a request: allocates its id, arms its timeout, then calls `send(id, context)`. A send
   * that throws or returns a promise that rejects settles the request through `unsent`; one that
   * returns nothing leaves failures to the caller.
   */
  request(context: C, send: (id: number, context: C) => Promise<void> | void): Promise<T> {
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    const result = emRef.deref().promise<T>();
    const entry: Entry<T, C> = { context, result, timer: undefined };
    this.pending.set(id, entry);
    const timeoutUs = this.options.timeoutUs;
    if (timeoutUs !== undefined && this.core.node.localIdMap.get(SystemEbbIds.Timer) !== undefined) {
      const us = timeoutUs();
      entry.timer = timerRef.deref().start(() => this.expire(id, entry, us), us);
    }
    const fault = this.options.inject?.(context);
    if (fault?.kind === 'fail') {
      this.take(id);
      const failed = this.options.failed;
      result.reject(failed !== undefined ? failed(context) : new Error(`request ${id} of node ${this.core.node.id}: injected fault`));
      return result.promise;
    }
    if (fault?.kind === 'delay') {
      // Still pending when the delay ends? (It may have timed out meanwhile: then it is never sent.)
      timerRef.deref().start(() => {
        if (this.pending.get(id) === entry) this.send(id, entry, context, send);
      }, fault.us);
      return result.promise;
    }
    this.send(id, entry, context, send);
    return result.promise;
  }

  private send(id: number, entry: Entry<T, C>, context: C, send: (id: number, context: C) => Promise<void> | void): void {
    let sent: Promise<void> | void;
    try {
      sent = send(id, context);
    } catch (e) {
      this.failSend(id, entry, e);
      return;
    }
    if (sent !== undefined) sent.then(undefined, (e: unknown) => this.failSend(id, entry, e));
  }

  /**
   * A reply for request `id` of core `core`, arriving on any core of this node: settled here if
   * it is this core's, else forwarded to that core's table. A core that does not exist is stray.
   */
  deliver(core: number, id: number, reply: R): void {
    if (core === this.core.index) this.settle(id, reply);
    else if (core >= this.core.node.numCores) this.options.stray?.();
    else {
      this.options.forwarded?.();
      const here = this.options.here;
      emRef.deref().spawnRemote(() => here().settle(id, reply), core);
    }
  }

  /** Settles request `id` of this core with its reply (through `reply`). */
  settle(id: number, reply: R): void {
    const entry = this.take(id);
    if (entry === undefined) {
      this.options.stray?.();
      return;
    }
    const decode = this.options.reply;
    if (decode === undefined) entry.result.resolve(reply as unknown as T);
    else this.outcome(entry, decode, reply);
  }

  /** The context of pending request `id` of this core (to accumulate partial replies), or undefined. */
  context(id: number): C | undefined {
    return this.pending.get(id)?.context;
  }

  /** Resolves pending request `id` of this core; false if it is not pending. */
  resolve(id: number, value: T): boolean {
    const entry = this.take(id);
    if (entry === undefined) return false;
    entry.result.resolve(value);
    return true;
  }

  /** Rejects pending request `id` of this core; false if it is not pending. */
  reject(id: number, error: unknown): boolean {
    const entry = this.take(id);
    if (entry === undefined) return false;
    entry.result.reject(error);
    return true;
  }

  /** Rejects every request pending on this core (its peer is gone), with `error(context)`. */
  rejectAll(error: (context: C) => unknown): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      entry.timer?.stop();
      entry.result.reject(error(entry.context));
    }
  }

  private take(id: number): Entry<T, C> | undefined {
    const entry = this.pending.get(id);
    if (entry === undefined) return undefined;
    this.pending.delete(id);
    entry.timer?.stop();
    return entry;
  }

  private expire(id: number, entry: Entry<T, C>, us: number): void {
    if (this.pending.get(id) !== entry) return;
    this.pending.delete(id);
    const timedOut = this.options.timedOut;
    if (timedOut === undefined) entry.result.reject(new Error(`request ${id} of node ${this.core.node.id} core ${this.core.index}: no reply within ${us} us`));
    else this.outcome(entry, timedOut, entry.context);
  }

  private failSend(id: number, entry: Entry<T, C>, error: unknown): void {
    if (this.pending.get(id) !== entry) return;
    this.pending.delete(id);
    entry.timer?.stop();
    const unsent = this.options.unsent;
    if (unsent === undefined) entry.result.reject(error);
    else this.outcome(entry, unsent, error);
  }

  private outcome<A>(entry: Entry<T, C>, fn: (arg: A, context: C) => T, arg: A): void {
    let value: T;
    try {
      value = fn(arg, entry.context);
    } catch (e) {
      entry.result.reject(e);
      return;
    }
    entry.result.resolve(value);
  }
}
