import { EbbRef } from '@ebbrt/core-translation';
import {
  EbbrtError,
  SystemEbbIds,
  type EventManager,
  type FileSystem,
  type NetworkManager,
  type Timer,
} from '@ebbrt/interfaces';

/** What a node gives the Node.js app it runs (an `AppContext` from `@ebbrt/runtime` is one). */
export interface NodeAppHost {
  readonly node: { readonly id: number; readonly numCores: number };
  /** The app's command line after the script (`process.argv.slice(2)`). */
  readonly args: readonly string[];
  /** A line on the node's console (the front-end prints it). */
  log(line: string): void;
  /** Ends the whole application with a code (`process.exit`). */
  exit(code?: number): void;
}

/**
 * A node's Ebbs as the shims reach them: one set of refs per app instance (an `EbbRef` caches a
 * (core, rep) pair, so a module-level one would be shared by every node in the process), plus the
 * core the app's callbacks run on.
 */
export class NodeEbbs {
  readonly events = new EbbRef<EventManager>(SystemEbbIds.EventManager);
  readonly timer = new EbbRef<Timer>(SystemEbbIds.Timer);
  readonly network = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);
  readonly files = new EbbRef<FileSystem>(SystemEbbIds.FileSystem);

  /** The core every callback handed to app code runs on (by default the one that made these refs). */
  readonly appCore: number;

  constructor(appCore?: number) {
    this.appCore = appCore ?? this.events.deref().core;
  }

  /** Runs `fn` on the app's core: now if this is it, else as an event there (FIFO). */
  onApp(fn: () => void): void {
    const em = this.events.deref();
    if (em.core === this.appCore) fn();
    else em.spawnRemote(fn, this.appCore);
  }

  /** `promise`, settled on the app's core whoever settles it (the FileSystem resumes on the caller's core already). */
  settleOnApp<T>(promise: Promise<T>): Promise<T> {
    const done = this.events.deref().promise<T>();
    promise.then(done.resolve, done.reject);
    return done.promise;
  }
}

/** The error for a Node API the shims do not provide: names it, never a silent wrong answer. */
export class UnsupportedApiError extends EbbrtError {
  constructor(
    readonly api: string,
    why = 'a back-end node does not provide it',
  ) {
    super('ERR_EBBRT_UNSUPPORTED', `${api} is not supported on an EbbRT back-end node: ${why}`);
  }
}
