/**
 * One macrotask per call, with the microtask queue drained before the next one: the scheduler's
 * microtask-drain rule needs exactly this. Node has `setImmediate` (cheapest, and what the
 * scheduler's figures were measured with); a browser tab has none, so there a `MessageChannel`
 * gives the same guarantee (each message is its own task, and the engine drains microtasks after
 * each task). `setTimeout(0)` would also work but browsers clamp nested timeouts to 4 ms.
 */
export type Macrotask = () => void;

/** The DOM's MessageChannel, as much of it as is used (Node's typings describe another shape). */
interface DomMessageChannel {
  port1: { onmessage: (() => void) | null };
  port2: { postMessage(value: number): void };
}


/** @internal The browser mechanism, exported for its test (Node has MessageChannel too). */
export function channelQueue(Channel: new () => DomMessageChannel): (fn: Macrotask) => void {
  // FIFO of tasks: one message per task, so each runs in its own macrotask.
  const pending: (Macrotask | undefined)[] = [];
  let head = 0;
  const channel = new Channel();
  channel.port1.onmessage = () => {
    const fn = pending[head];
    pending[head++] = undefined;
    if (head === pending.length) {
      pending.length = 0;
      head = 0;
    }
    fn?.();
  };
  return (fn) => {
    pending.push(fn);
    channel.port2.postMessage(0);
  };
}

function pick(): (fn: Macrotask) => void {
  // Looked up by name: neither exists in both Node's and the DOM's typings with one shape.
  const immediate: unknown = Reflect.get(globalThis, 'setImmediate');
  if (typeof immediate === 'function') return (fn) => void immediate(fn);
  const Channel: unknown = Reflect.get(globalThis, 'MessageChannel');
  if (typeof Channel === 'function') return channelQueue(Channel as new () => DomMessageChannel);
  throw new Error('hw-x86sim needs the setImmediate of Node or a MessageChannel (browsers, workers) to schedule its steps');
}

/**
 * Run `fn` in a later macrotask of its own. The choice of mechanism is made once, on first use;
 * it holds no simulation state (ordering among simulations comes from each one's own queue).
 */
let chosen: ((fn: Macrotask) => void) | undefined;
export function queueMacrotask(fn: Macrotask): void {
  (chosen ??= pick())(fn);
}

/**
 * Runs every queued microtask and `process.nextTick` callback to completion, synchronously: the
 * queues are empty when it returns (ticks queued by microtasks and microtasks queued by ticks
 * included). Node's `processImmediate` calls exactly this between two `setImmediate` callbacks;
 * `process._tickCallback` is that same function (`runNextTicks`), kept by Node for native addons.
 * The scheduler calls it between steps so that steps need not each be a macrotask.
 *
 * Only valid from a macrotask callback (a `setImmediate`/timer callback), never from inside a
 * microtask: V8 ignores a checkpoint requested from inside one, and the drain would silently
 * be partial. Null where the host has no such hook (a browser tab): there every step is a
 * macrotask of its own.
 */
export type DrainJobs = () => void;

function pickDrain(): DrainJobs | null {
  const proc: unknown = Reflect.get(globalThis, 'process');
  if (typeof proc !== 'object' || proc === null) return null;
  const fn: unknown = Reflect.get(proc, '_tickCallback');
  if (typeof fn !== 'function') return null;
  const drain: DrainJobs = fn.bind(proc);
  return drain;
}

let drainChosen: DrainJobs | null | undefined;
/** @internal The host's synchronous job drain, or null (see DrainJobs). Chosen once. */
export function hostDrain(): DrainJobs | null {
  if (drainChosen === undefined) drainChosen = pickDrain();
  return drainChosen;
}
