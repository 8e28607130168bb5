import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { EventManagerRoot } from '@ebbrt/interfaces';

/** What the hooks' generated code reaches for one app (see esm-hooks.mjs). */
export interface EsmApp {
  builtin(name: string): unknown;
  requireFile(path: string): unknown;
  readonly globals: Record<string, unknown>;
  /** Resolves in an event on the app's core: each module's top level awaits it, so it runs there. */
  enter(): Promise<void>;
}

interface Registry {
  apps: Map<string, EsmApp>;
  hooked: boolean;
  next: number;
}

const REGISTRY = Symbol.for('@ebbrt/node-compat/apps');

/**
 * The process-wide table the loader hooks' generated code looks apps up in, by key. It is the one
 * piece of state outside any node: the hooks run on Node's loader thread and can only name an app
 * in a URL. Created on first use, on globalThis (two copies of this package agree on it).
 */
function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (g[REGISTRY] ??= { apps: new Map(), hooked: false, next: 1 });
}

function hooksUrl(): URL {
  for (const candidate of ['./esm-hooks.mjs', '../src/modules/esm-hooks.mjs']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error('@ebbrt/node-compat: esm-hooks.mjs is missing from the package');
}

// An import() the test transformer cannot rewrite: the app's graph must go through Node's loader.
const nativeImport = vm.compileFunction('return import(url)', ['url'], {
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
} as vm.CompileFunctionOptions) as (url: string) => Promise<unknown>;

/** Imports an ES module entry as the app `app`, every module of its graph evaluated on `core`. */
export function importEsm(file: string, app: Omit<EsmApp, 'enter'>, events: EventManagerRoot, core: number, nodeId: number): Promise<unknown> {
  const r = registry();
  if (!r.hooked) {
    register(hooksUrl());
    r.hooked = true;
  }
  const key = `n${nodeId}-${r.next++}`;
  r.apps.set(key, {
    ...app,
    builtin: app.builtin,
    requireFile: app.requireFile,
    globals: app.globals,
    enter: () => new Promise<void>((resolve) => events.post(core, () => resolve())),
  });
  const url = pathToFileURL(file);
  url.searchParams.set('ebbrt-app', key);
  return nativeImport(url.href);
}
