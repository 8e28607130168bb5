import type { NodeContext } from '@ebbrt/core-translation';
import type { AppConfig } from '@ebbrt/interfaces';

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
}

/** The signature of an entry module's `main` (or default) export. */
export type AppMain = (context: AppContext) => unknown;
