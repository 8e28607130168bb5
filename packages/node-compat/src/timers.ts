import type { TimerHandle } from '@ebbrt/interfaces';
import type { NodeEbbs } from './host.js';
import type { AppFaults } from './process/uncaught.js';

/** Node's clamp: a delay outside [1, 2^31 - 1] ms becomes 1 ms. */
const MAX_DELAY_MS = 2 ** 31 - 1;
function delayMs(ms: unknown): number {
  const n = Number(ms);
  return n >= 1 && n <= MAX_DELAY_MS ? n : 1;
}

/**
 * Node's `Timeout` over the node's Timer Ebb: the hook fires as an event on the core that started
 * it (the app's core). `unref` is recorded but cannot end a virtual run early (the Timer Ebb keeps
 * its event pending); `process.exit` ends it.
 */
export class Timeout {
  private handle: TimerHandle | undefined;
  private refed = true;
  readonly id: number;

  constructor(
    private readonly timers: NodeTimers,
    private readonly callback: (...args: unknown[]) => void,
    private readonly ms: number,
    private readonly args: unknown[],
    private readonly repeat: boolean,
  ) {
    this.id = timers.nextId++;
    this.start();
  }

  private start(): void {
    this.timers.live.set(this.id, this);
    this.handle = this.timers.ebbs.timer.deref().start(() => this.fire(), Math.round(this.ms * 1000), this.repeat);
  }

  private fire(): void {
    if (!this.repeat) this.timers.live.delete(this.id);
    const faults = this.timers.faults;
    if (faults === undefined) this.callback(...this.args);
    else faults.run(this.callback, this.args);
  }

  hasRef(): boolean {
    return this.refed;
  }
  ref(): this {
    this.refed = true;
    return this;
  }
  unref(): this {
    this.refed = false;
    return this;
  }
  /** Restarts the countdown from now, as Node's does. */
  refresh(): this {
    if (this.handle?.active) {
      this.handle.stop();
      this.start();
    }
    return this;
  }
  close(): this {
    this.handle?.stop();
    this.timers.live.delete(this.id);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Node's `Immediate`: a FIFO event on the app's core, after what is queued there. */
export class Immediate {
  cancelled = false;
  private refed = true;
  hasRef(): boolean {
    return this.refed;
  }
  ref(): this {
    this.refed = true;
    return this;
  }
  unref(): this {
    this.refed = false;
    return this;
  }
  [Symbol.dispose](): void {
    this.cancelled = true;
  }
}

/** One app's timer functions (the globals and `node:timers`). */
export class NodeTimers {
  nextId = 1;
  readonly live = new Map<number, Timeout>();
  /** Where a throwing timer callback goes (set by the runtime). */
  faults: AppFaults | undefined;

  /** The app died: no timer of it fires any more. */
  clearAll(): void {
    for (const t of [...this.live.values()]) t.close();
  }

  constructor(readonly ebbs: NodeEbbs) {}

  setTimeout = (callback: (...args: unknown[]) => void, ms?: unknown, ...args: unknown[]): Timeout => {
    checkCallback('setTimeout', callback);
    return new Timeout(this, callback, delayMs(ms), args, false);
  };

  setInterval = (callback: (...args: unknown[]) => void, ms?: unknown, ...args: unknown[]): Timeout => {
    checkCallback('setInterval', callback);
    return new Timeout(this, callback, delayMs(ms), args, true);
  };

  clearTimeout = (timer: unknown): void => {
    if (timer instanceof Timeout) timer.close();
    else if (typeof timer === 'number' || typeof timer === 'string') this.live.get(Number(timer))?.close();
  };

  clearInterval = this.clearTimeout;

  setImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]): Immediate => {
    checkCallback('setImmediate', callback);
    const immediate = new Immediate();
    this.ebbs.events.deref().spawn(
      () => {
        if (immediate.cancelled) return;
        if (this.faults === undefined) callback(...args);
        else this.faults.run(callback, args);
      },
      { async: true },
    );
    return immediate;
  };

  clearImmediate = (immediate: unknown): void => {
    if (immediate instanceof Immediate) immediate.cancelled = true;
  };

  /** `node:timers` */
  module(): Record<string, unknown> {
    const { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate } = this;
    return { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, promises: this.promises() };
  }

  /** `node:timers/promises` */
  promises(): Record<string, unknown> {
    const aborted = (signal: AbortSignal | undefined): Error =>
      Object.assign(new Error('The operation was aborted', { cause: signal?.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
    const wait = <T>(start: (done: () => void) => { cancel(): void }, value: T, signal: AbortSignal | undefined): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (signal?.aborted) return reject(aborted(signal));
        const onAbort = (): void => {
          pending.cancel();
          reject(aborted(signal));
        };
        const pending = start(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    const setTimeoutP = <T>(ms?: number, value?: T, options: { signal?: AbortSignal } = {}): Promise<T> =>
      wait((done) => {
        const t = this.setTimeout(done, ms);
        return { cancel: () => t.close() };
      }, value as T, options.signal);
    const setImmediateP = <T>(value?: T, options: { signal?: AbortSignal } = {}): Promise<T> =>
      wait((done) => {
        const i = this.setImmediate(done);
        return { cancel: () => void (i.cancelled = true) };
      }, value as T, options.signal);
    const timers = this;
    async function* setIntervalP<T>(ms?: number, value?: T, options: { signal?: AbortSignal } = {}): AsyncGenerator<T> {
      let ticks = 0;
      let wake: (() => void) | undefined;
      const t = timers.setInterval(() => {
        ticks++;
        wake?.();
      }, ms);
      try {
        for (;;) {
          if (options.signal?.aborted) throw aborted(options.signal);
          if (ticks === 0) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          ticks--;
          yield value as T;
        }
      } finally {
        t.close();
      }
    }
    return {
      setTimeout: setTimeoutP,
      setImmediate: setImmediateP,
      setInterval: setIntervalP,
      scheduler: { wait: (ms: number, options?: { signal?: AbortSignal }) => setTimeoutP(ms, undefined, options), yield: () => setImmediateP() },
    };
  }
}

function checkCallback(api: string, callback: unknown): void {
  if (typeof callback !== 'function') {
    throw Object.assign(new TypeError(`The "callback" argument of ${api} must be of type function. Received ${typeof callback}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
}
