import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@ebbrt/interfaces';
import type { NodeAppHost } from './host.js';
import { NodeRuntime } from './runtime.js';

export interface RunNodeAppOptions {
  /** The app: a `.js`/`.cjs` file, or a package directory (its package.json `main`, else index.js). */
  entry: string | URL;
  /** `process.env` (default: empty but for NODE_ENV, taken from the host). */
  env?: Record<string, string>;
  /** `process.cwd()`, against which relative fs paths resolve (default: the entry's directory). */
  cwd?: string;
  /** Names the app may connect to besides IPv4 literals and `localhost`: `{ server: '10.0.0.2' }`. */
  hosts?: Readonly<Record<string, string>>;
  /**
   * A replayable run: `Date` starts at `epochMs` (default 2026-01-01T00:00:00Z) on the node's
   * clock and every random source is the seeded PRNG. Default false: the host's wall-clock epoch and
   * its CSPRNG (a real deployment). Pass `true` under the virtual clock.
   */
  deterministic?: boolean;
  epochMs?: number;
  seed?: number;
}

export const DEFAULT_EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * Runs an unmodified Node.js app on this node (call it in an event on the core the app should run
 * on, e.g. from a back-end entry's `main`). Its module graph is loaded afresh for this node with
 * Node's resolution, and its `require('net')`, timers, clock, randomness, process and console are
 * the node's. Returns the app's runtime (for tests and tools) once the entry module has run.
 */
export function runNodeApp(host: NodeAppHost, options: RunNodeAppOptions): NodeRuntime {
  const script = entryFile(options.entry);
  const runtime = new NodeRuntime(host, {
    script,
    cwd: options.cwd ?? dirname(script),
    env: options.env ?? (process.env.NODE_ENV !== undefined ? { NODE_ENV: process.env.NODE_ENV } : {}),
    hosts: options.hosts ?? {},
    deterministic: options.deterministic ?? false,
    epochMs: options.epochMs ?? DEFAULT_EPOCH_MS,
    seed: options.seed ?? 0,
  });
  if (runtime.isEsm(script)) {
    // An ES module entry evaluates asynchronously (Node's loader); a failure is reported like a
    // failed event's, on the node's console.
    runtime.loaded = runtime.importMain(script).then(
      () => undefined,
      (e: unknown) => {
        host.log(`node app ${script} failed to load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        throw e;
      },
    );
  } else {
    runtime.runMain(script);
    runtime.loaded = Promise.resolve();
  }
  return runtime;
}

/** The entry module's file, as Node would pick it for `node <entry>`. */
export function entryFile(entry: string | URL): string {
  const path = entry instanceof URL || entry.startsWith('file:') ? fileURLToPath(entry) : resolve(entry);
  if (!existsSync(path)) throw new UsageError(`node app entry ${path} does not exist`);
  if (statSync(path).isDirectory()) {
    try {
      return createRequire(path + '/').resolve('./');
    } catch {
      throw new UsageError(`node app entry ${path} is a directory without a package.json "main" or an index.js`);
    }
  }
  return path;
}
