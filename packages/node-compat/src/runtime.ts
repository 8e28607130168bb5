import * as realModule from 'node:module';
import * as realOs from 'node:os';
import * as realPerfHooks from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { NodeClock } from './clock.js';
import { dgramModule } from './dgram.js';
import { NodeDns } from './dns.js';
import { NodeFiles } from './fs/files.js';
import { fsModules } from './fs/module.js';
import { NodeEbbs, UnsupportedApiError, type NodeAppHost } from './host.js';
import { NodeHttp } from './http.js';
import { NodeNet } from './net/net.js';
import { NodeProcess } from './process/process.js';
import { AppFaults } from './process/uncaught.js';
import { NodeRandom } from './random.js';
import { NodeTimers } from './timers.js';
import { CjsLoader, type AppGlobals } from './modules/cjs.js';
import { importEsm } from './modules/esm.js';
import { currentNode } from '@ebbrt/core-translation';
import { SystemEbbIds, type EventManagerRoot } from '@ebbrt/interfaces';
import { PASSED_THROUGH, builtinName, refusedModule } from './modules/builtins.js';

export interface NodeRuntimeOptions {
  /** The script, as `process.argv[1]` (an absolute path). */
  script: string;
  /** `process.cwd()`: relative fs paths resolve against it. Default: the script's directory. */
  cwd: string;
  env: Record<string, string>;
  /** Names the node resolves (besides IPv4 literals and `localhost`). */
  hosts: Readonly<Record<string, string>>;
  /** `true`: Date starts at `epochMs` and randomness is the seeded PRNG (a replayable run). */
  deterministic: boolean;
  epochMs: number;
  seed: number;
}

/**
 * Everything one Node.js app on one node sees instead of Node's own globals and builtins: its
 * timers, clock, randomness, process, console, net/http/dgram/dns/fs, and a module loader of its
 * own. Two instances (two nodes, or two apps) share nothing but the host's immutable modules.
 */
export class NodeRuntime {
  readonly ebbs: NodeEbbs;
  readonly timers: NodeTimers;
  readonly clock: NodeClock;
  readonly random: NodeRandom;
  readonly process: NodeProcess;
  readonly dns: NodeDns;
  readonly net: NodeNet;
  readonly http: NodeHttp;
  readonly files: NodeFiles;
  readonly loader: CjsLoader;
  /** Node's uncaught-exception path for this app (its listeners, else the app alone dies). */
  readonly faults: AppFaults;
  readonly globals: AppGlobals;
  private readonly builtins = new Map<string, unknown>();
  /** Settles when the entry module has been evaluated (at once for CommonJS). */
  loaded: Promise<void> = Promise.resolve();
  private readonly DateCtor: DateConstructor;

  constructor(
    readonly host: NodeAppHost,
    readonly options: NodeRuntimeOptions,
  ) {
    this.ebbs = new NodeEbbs();
    this.timers = new NodeTimers(this.ebbs);
    const epoch = options.deterministic ? options.epochMs : Date.now();
    this.clock = new NodeClock(this.ebbs, epoch);
    this.random = new NodeRandom(options.deterministic, options.seed, host.node.id);
    this.DateCtor = this.clock.dateClass();
    this.process = new NodeProcess({ host, clock: this.clock, script: options.script, env: options.env, cwd: options.cwd, title: 'node' });
    this.dns = new NodeDns(this.ebbs, options.hosts);
    this.net = new NodeNet(this.ebbs, this.timers, this.dns, (line) => host.log(line));
    this.http = new NodeHttp(this.net, this.clock);
    this.files = new NodeFiles(this.ebbs, options.cwd, this.DateCtor);
    this.faults = new AppFaults(this.process, (line) => host.log(line), host.node.id, () => {
      this.timers.clearAll();
      this.net.closeAll();
    });
    this.process.faults = this.net.faults = this.timers.faults = this.http.faults = this.faults;
    this.globals = this.makeGlobals();
    this.loader = new CjsLoader((name) => this.builtin(name), this.globals);
  }

  private defer = (fn: () => void): void => this.ebbs.events.deref().spawn(fn, { async: true });

  private makeGlobals(): AppGlobals {
    const t = this.timers;
    const crypto = this.random.cryptoModule(this.defer);
    const fetch = (): never => {
      throw new UnsupportedApiError('fetch', 'use http.request (fetch runs on the host\'s own sockets)');
    };
    const overrides: Record<string | symbol, unknown> = {
      process: this.process,
      console: this.process.console,
      setTimeout: t.setTimeout,
      clearTimeout: t.clearTimeout,
      setInterval: t.setInterval,
      clearInterval: t.clearInterval,
      setImmediate: t.setImmediate,
      clearImmediate: t.clearImmediate,
      Date: this.DateCtor,
      Math: this.random.math(),
      performance: this.clock.performance(),
      crypto: crypto.webcrypto,
      fetch,
    };
    // The app's globalThis: its own writes land in an overlay, reads see ours, then the host's.
    const overlay: Record<string | symbol, unknown> = Object.create(null) as Record<string | symbol, unknown>;
    const real = globalThis as unknown as Record<string | symbol, unknown>;
    const proxy: unknown = new Proxy(real, {
      get: (target, key) => (key in overlay ? overlay[key] : key in overrides ? overrides[key] : key === 'global' || key === 'globalThis' ? proxy : target[key]),
      set: (_target, key, value) => {
        overlay[key] = value;
        return true;
      },
      has: (target, key) => key in overlay || key in overrides || key in target,
      deleteProperty: (_target, key) => delete overlay[key],
      defineProperty: (_target, key, descriptor) => {
        Object.defineProperty(overlay, key, descriptor);
        return true;
      },
    });
    return { ...(overrides as Omit<AppGlobals, 'global' | 'globalThis'>), global: proxy, globalThis: proxy } as AppGlobals;
  }

  /** The module an app gets for `require('name')` / `import 'node:name'`. */
  builtin(name: string): unknown {
    let m = this.builtins.get(name);
    if (m === undefined) {
      m = this.makeBuiltin(name);
      this.builtins.set(name, m);
    }
    return m;
  }

  private makeBuiltin(name: string): unknown {
    const host = createRequire(import.meta.url);
    switch (name) {
      case 'net':
        return this.net.module();
      case 'http':
        return this.http.module();
      case 'dgram':
        return dgramModule(this.ebbs, this.dns);
      case 'dns':
        return this.dns.module();
      case 'dns/promises':
        return (this.dns.module() as { promises: unknown }).promises;
      case 'fs':
        return fsModules(this.files).fs;
      case 'fs/promises':
        return (this.builtin('fs') as { promises: unknown }).promises;
      case 'timers':
        return this.timers.module();
      case 'timers/promises':
        return this.timers.promises();
      case 'crypto':
        return this.random.cryptoModule(this.defer);
      case 'process':
        return this.process;
      case 'console':
        return this.process.console;
      case 'perf_hooks':
        return { ...realPerfHooks, performance: this.globals.performance };
      case 'os':
        return { ...realOs, hostname: () => `node${this.host.node.id}`, cpus: () => realOs.cpus().slice(0, this.host.node.numCores), availableParallelism: () => this.host.node.numCores, uptime: () => this.process.uptime() };
      case 'module':
        return { ...realModule, createRequire: (file: string | URL) => this.loader.createRequire(file), register: () => undefined };
    }
    if (PASSED_THROUGH.has(name)) return host(`node:${name}`);
    return refusedModule(name);
  }

  /** Runs a CommonJS entry file as the main module. */
  runMain(file: string): unknown {
    return this.loader.runMain(file);
  }

  /**
   * Imports an ES module entry (`.mjs`, or `.js` under `"type": "module"`): its graph is this app's
   * own (see modules/esm-hooks.mjs), and resolves once the entry has been evaluated.
   */
  importMain(file: string): Promise<unknown> {
    const events = currentNode().localIdMap.get(SystemEbbIds.EventManager) as EventManagerRoot;
    return importEsm(
      file,
      { builtin: (name) => this.builtin(name), requireFile: (path) => this.loader.requireFile(path), globals: this.globals as unknown as Record<string, unknown> },
      events,
      this.ebbs.appCore,
      this.host.node.id,
    );
  }

  /** Whether Node would load `file` as an ES module. */
  isEsm(file: string): boolean {
    return file.endsWith('.mjs') || (file.endsWith('.js') && this.loader.isModuleType(file));
  }

  static builtinName = builtinName;
}
