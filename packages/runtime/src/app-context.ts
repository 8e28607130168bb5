import { EbbRef, type NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type AppConfig, type CorePromise, type EventFn, type EventManager } from '@ebbrt/interfaces';
import type { BootedNode } from './boot/boot-node.js';

/** What an application's `main` receives, on core 0 of its node. */
export interface AppContext {
  readonly role: 'frontend' | 'backend';
  readonly node: NodeContext;
  readonly config: AppConfig;
  /** Command-line arguments for the application (back-ends get `config.args`). */
  readonly args: readonly string[];
  /** Writes a line on this node's console, prefixed with node and core. */
  log(line: string): void;
  /** Ends the whole application (every node) with an exit code. */
  exit(code?: number): void;
  /**
   * Aborted when the application is asked to stop (`exit()`, SIGINT/SIGTERM through the CLI, the
   * run's signal): a serving front-end main awaits it, then closes what it opened.
   */
  readonly signal: AbortSignal;
  /** Resolves when {@link signal} aborts, resuming on the core that called. */
  whenStopped(): Promise<void>;
  /**
   * The network ids of the back-ends the config asked for, once every one has booted and
   * reported back (resumes on the calling core).
   */
  backends(): Promise<readonly number[]>;
  /**
   * Queues `fn` as an event on this node's core 0 from outside any event: how code that Node
   * calls (a REPL line, a socket callback, a FinalizationRegistry) enters the node's Ebbs.
   */
  post(fn: EventFn): void;
}

/** The signature of an entry module's `main` (or default) export. */
export type AppMain = (context: AppContext) => unknown;

export interface AppContextParts {
  role: AppContext['role'];
  node: BootedNode;
  config: AppConfig;
  args: readonly string[];
  exit(code?: number): void;
  /** Aborted when the app is asked to stop. */
  stopping: AbortSignal;
  /** The configured back-ends' ids once they reported back (the front-end's view). */
  backendIds(): Promise<readonly number[]>;
}

/** An entry point's context; `whenStopped` and `backends` resume on the calling core. */
export function appContext(parts: AppContextParts): AppContext {
  const { node, stopping } = parts;
  const onCore = <T>(): CorePromise<T> => new EbbRef<EventManager>(SystemEbbIds.EventManager).deref().promise<T>();
  return {
    role: parts.role,
    node: node.context,
    config: parts.config,
    args: parts.args,
    log: (line) => node.console.log(line),
    exit: parts.exit,
    signal: stopping,
    post: (fn) => node.events.post(0, fn),
    backends() {
      const ids = onCore<readonly number[]>();
      parts.backendIds().then(ids.resolve, ids.reject);
      return ids.promise;
    },
    whenStopped() {
      const stopped = onCore<void>();
      if (stopping.aborted) stopped.resolve();
      else stopping.addEventListener('abort', () => stopped.resolve(), { once: true });
      return stopped.promise;
    },
  };
}
