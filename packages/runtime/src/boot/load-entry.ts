import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@ebbrt/interfaces';
import type { AppMain } from '../app-context.js';

/** Imports an entry module and returns its `main` (or default) function; errors name the field. */
export async function loadEntry(appDir: string, path: string, field: string): Promise<AppMain> {
  const file = resolve(appDir, path);
  if (!existsSync(file)) throw new ConfigError(field, `entry module ${file} does not exist`);
  const module = (await import(pathToFileURL(file).href)) as { main?: unknown; default?: unknown };
  const main = module.main ?? module.default;
  if (typeof main !== 'function') {
    throw new ConfigError(field, `entry module ${file} exports no main function (export function main(ctx) {...})`);
  }
  return main as AppMain;
}
