import { builtinModules } from 'node:module';
import { UnsupportedApiError } from '../host.js';

/** Host modules that are pure computation (no I/O, no clock, no host process): the app gets Node's own. */
export const PASSED_THROUGH = new Set([
  'assert',
  'assert/strict',
  'buffer',
  'events',
  'path',
  'path/posix',
  'path/win32',
  'querystring',
  'readline',
  'readline/promises',
  'stream',
  'stream/promises',
  'stream/web',
  'stream/consumers',
  'string_decoder',
  'url',
  'util',
  'util/types',
  'zlib',
  'punycode',
  'async_hooks',
  'diagnostics_channel',
  'v8',
  'vm',
  'constants',
  'sys',
]);

/** Modules whose every member is refused by name: there is no such service on a back-end node. */
const REFUSED: Record<string, string> = {
  child_process: 'a back-end node runs one application and no host processes',
  cluster: 'a back-end node runs one application and no host processes',
  https: 'there is no TLS on the node (terminate TLS in front of it)',
  tls: 'there is no TLS on the node (terminate TLS in front of it)',
  http2: 'there is no HTTP/2 (nor TLS) on the node',
  inspector: 'there is no inspector on a back-end node',
  repl: 'a back-end node has no terminal',
  wasi: 'there is no WASI host on a back-end node',
  trace_events: 'the simulation has its own trace (--trace)',
  tty: 'a back-end node has no terminal',
  worker_threads: 'a back-end node runs the app on its event loop, with no worker threads',
};

/** What a refused module still answers (the checks libraries make when they load). */
const STILL_ANSWERED: Record<string, Record<string, unknown>> = {
  tty: { isatty: () => false },
  worker_threads: { isMainThread: true, threadId: 0, parentPort: null, workerData: null, resourceLimits: {} },
};

/**
 * A module object any use of which throws naming the API (`child_process.spawn is not
 * supported...`); loading it still works, so a library that only requires it at the top loads.
 */
export function refusedModule(name: string): Record<string | symbol, unknown> {
  const why = REFUSED[name] ?? 'a back-end node does not provide it';
  const extra: Record<string, unknown> = { ...(STILL_ANSWERED[name] ?? {}) };
  return new Proxy(extra, {
    get(target, key) {
      if (typeof key === 'symbol' || key === '__esModule' || key === 'then' || key === 'default') return undefined;
      if (key in target) return target[key];
      return new Proxy(function refused() {}, {
        apply: () => {
          throw new UnsupportedApiError(`${name}.${key}`, why);
        },
        construct: () => {
          throw new UnsupportedApiError(`new ${name}.${key}`, why);
        },
        get: (_t, k) => {
          if (k === 'prototype') return {};
          throw new UnsupportedApiError(`${name}.${key}.${String(k)}`, why);
        },
      });
    },
  });
}

export function isRefused(name: string): boolean {
  return name in REFUSED;
}

/** `node:x` and `x` name the same builtin; the bare form is what we key on. */
export function builtinName(request: string): string | undefined {
  const bare = request.startsWith('node:') ? request.slice(5) : request;
  if (request.startsWith('node:') || builtinModules.includes(bare)) return bare;
  return undefined;
}
