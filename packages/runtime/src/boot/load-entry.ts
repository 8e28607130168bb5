import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@ebbrt/interfaces';
import type { AppMain } from '../app-context.js';
import { importUrl, loadOnce, type ModuleCache } from '../resolve/module-cache.js';

/**
 * Imports an entry module and returns its `main` (or default) function; errors name the field.
 * `modules` keeps the import for its owner's later boots.
 */
export async function loadEntry(appDir: string, path: string, field: string, modules?: ModuleCache): Promise<AppMain> {
  const file = resolve(appDir, path);
  if (!existsSync(file)) throw new ConfigError(field, `entry module ${file} does not exist`);
  const url = pathToFileURL(file).href;
  const module = await loadOnce(modules, url, () => importUrl<{ main?: unknown; default?: unknown }>(url));
  const main = module.main ?? module.default;
  if (typeof main !== 'function') {
    throw new ConfigError(field, `entry module ${file} exports no main function (export function main(ctx) {...})`);
  }
  return main as AppMain;
}
