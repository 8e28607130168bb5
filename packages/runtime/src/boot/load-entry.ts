import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@ebbrt/interfaces';
import type { AppMain } from '../app-context.js';

/**
 * Modules already imported, by URL: Node caches a module once imported anyway, but every
 * `import()` still crosses a TypeScript loader's hooks (a thread hop, ~ms), so each boot of an
 * app in the same process would pay it again. Failures are not kept (the file may be fixed).
 */
const imported = new Map<string, Promise<{ main?: unknown; default?: unknown }>>();

/** Imports an entry module and returns its `main` (or default) function; errors name the field. */
export async function loadEntry(appDir: string, path: string, field: string): Promise<AppMain> {
  const file = resolve(appDir, path);
  if (!existsSync(file)) throw new ConfigError(field, `entry module ${file} does not exist`);
  const url = pathToFileURL(file).href;
  let loading = imported.get(url);
  if (loading === undefined) {
    loading = import(url) as Promise<{ main?: unknown; default?: unknown }>;
    imported.set(url, loading);
    loading.catch(() => imported.delete(url));
  }
  const module = await loading;
  const main = module.main ?? module.default;
  if (typeof main !== 'function') {
    throw new ConfigError(field, `entry module ${file} exports no main function (export function main(ctx) {...})`);
  }
  return main as AppMain;
}
