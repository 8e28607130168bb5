import { EventEmitter } from 'node:events';
import { Console } from 'node:console';
import { UnsupportedApiError, type NodeAppHost } from '../host.js';
import type { NodeClock } from '../clock.js';
import { ConsoleStream } from './stdio.js';
import type { AppFaults } from './uncaught.js';

export interface ProcessOptions {
  host: NodeAppHost;
  clock: NodeClock;
  /** `process.argv[1]`: the script. */
  script: string;
  env: Record<string, string>;
  cwd: string;
  title: string;
}

/** Read-only facts of the host Node.js that libraries look at (versions, platform...). */
const PASSED_THROUGH = [
  'version',
  'versions',
  'platform',
  'arch',
  'release',
  'features',
  'config',
  'execArgv',
  'execPath',
  'emitWarning',
  'memoryUsage',
  'cpuUsage',
  'resourceUsage',
  'umask',
  'allowedNodeEnvironmentFlags',
  'getuid',
  'getgid',
  'geteuid',
  'getegid',
] as const;

/** Calls that would reach the host OS's process: refused, naming the call. */
const REFUSED = ['chdir', 'kill', 'abort', 'dlopen', 'binding', '_linkedBinding', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups', 'send', 'disconnect', 'setUncaughtExceptionCaptureCallback'];

/**
 * A `process` for one app on one node: argv from the node's command line (as EbbRT read it through
 * an Ebb), its own env, `exit` ending the application through the front-end, stdout/stderr to the
 * node's console, `hrtime`/`uptime` on the node's clock. Events (`on('exit')`...) are the app's own.
 */
export class NodeProcess extends EventEmitter {
  readonly argv: string[];
  readonly argv0 = 'node';
  env: Record<string, string>;
  readonly pid: number;
  readonly ppid = 0;
  title: string;
  exitCode: number | undefined;
  readonly stdout: ConsoleStream;
  readonly stderr: ConsoleStream;
  readonly hrtime: ReturnType<NodeClock['hrtime']>;
  readonly console: Console;
  private exited = false;
  /** Where an exception from a nextTick callback goes (set by the runtime). */
  faults: AppFaults | undefined;

  constructor(private readonly options: ProcessOptions) {
    super();
    const { host } = options;
    this.argv = [process.execPath, options.script, ...host.args];
    this.env = { ...options.env };
    this.pid = host.node.id;
    this.title = options.title;
    this.stdout = new ConsoleStream((line) => host.log(line), 1);
    this.stderr = new ConsoleStream((line) => host.log(line), 2);
    this.hrtime = options.clock.hrtime();
    this.console = new Console({ stdout: this.stdout, stderr: this.stderr, colorMode: false });
    for (const name of PASSED_THROUGH) {
      const v = (process as unknown as Record<string, unknown>)[name];
      Object.defineProperty(this, name, { value: typeof v === 'function' ? v.bind(process) : v, enumerable: true });
    }
    for (const name of REFUSED) {
      Object.defineProperty(this, name, {
        value: () => {
          throw new UnsupportedApiError(`process.${name}()`);
        },
      });
    }
  }

  /** The host's nextTick queue, but what the callback throws is this app's uncaught exception. */
  nextTick(callback: (...args: unknown[]) => unknown, ...args: unknown[]): void {
    if (typeof callback !== 'function') {
      throw Object.assign(new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const faults = this.faults;
    if (faults === undefined) process.nextTick(callback, ...args);
    else process.nextTick(() => faults.run(callback, args));
  }

  get stdin(): never {
    throw new UnsupportedApiError('process.stdin', 'a back-end node has no input stream');
  }

  cwd(): string {
    return this.options.cwd;
  }

  uptime(): number {
    return this.options.clock.elapsedUs() / 1e6;
  }

  /** Ends the whole application (every node), as `process.exit` ends a Node program. */
  exit(code?: number): void {
    if (!this.exited) {
      this.exited = true;
      const c = code ?? this.exitCode ?? 0;
      this.exitCode = c;
      try {
        this.emit('exit', c);
      } finally {
        this.stdout.flush();
        this.stderr.flush();
        this.options.host.exit(c);
      }
    }
    // The run stops at the end of this event: what the caller does after exit() in the same
    // event still runs (Node would not run it), no later event does.
  }

  reallyExit(code?: number): void {
    this.exit(code);
  }
}

