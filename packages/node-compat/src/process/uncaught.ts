import type { EventEmitter } from 'node:events';

/**
 * Node's fatal-exception path for one app on one node. An exception that escapes app code outside
 * an event's `try` (a `process.nextTick` callback, a listener that a stream emits from a host
 * tick) would otherwise reach the host process, which is the front-end of every node. Here it
 * goes to this app only: its `process` 'uncaughtException' listeners if it has any (as Node),
 * else the app dies: the error on its node's console, `exit` emitted with code 1, its sockets,
 * servers and timers closed. The front-end and the other nodes go on.
 */
export class AppFaults {
  /** The app died of an uncaught exception: nothing of it runs any more. */
  dead = false;

  constructor(
    private readonly process: EventEmitter & { exitCode: number | undefined },
    private readonly log: (line: string) => void,
    private readonly nodeId: number,
    /** Closes what the app holds open (sockets, servers, timers). */
    private readonly stop: () => void,
  ) {}

  /** What Node does with an uncaught exception, for this app. */
  report = (error: unknown): void => {
    if (this.dead) return;
    if (this.process.listenerCount('uncaughtException') > 0) {
      try {
        this.process.emit('uncaughtException', error, 'uncaughtException');
        return;
      } catch (second) {
        // A throwing handler is fatal in Node too.
        error = second;
      }
    }
    this.die(error);
  };

  /** Runs `fn(...args)`, reporting what it throws (unless the app is dead, then not at all). */
  run(fn: (...args: unknown[]) => unknown, args: unknown[]): void {
    if (this.dead) return;
    try {
      fn(...args);
    } catch (e) {
      this.report(e);
    }
  }

  private die(error: unknown): void {
    this.dead = true;
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : `Uncaught ${String(error)}`;
    for (const line of text.split('\n')) this.log(line);
    this.log(`node ${this.nodeId}: the app stopped on an uncaught exception (no 'uncaughtException' listener)`);
    this.process.exitCode = 1;
    try {
      this.process.emit('exit', 1);
    } catch {
      // an exit listener that throws changes nothing now
    }
    this.stop();
  }
}

/** Wraps `emit` of an emitter class so a throwing listener is reported as uncaught, not thrown on. */
export function guardedEmit(faults: AppFaults | undefined, emit: () => boolean): boolean {
  if (faults === undefined) return emit();
  if (faults.dead) return false;
  try {
    return emit();
  } catch (e) {
    faults.report(e);
    return true;
  }
}
