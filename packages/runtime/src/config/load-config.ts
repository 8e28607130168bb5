import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, parseAppConfig, type AppConfig } from '@ebbrt/interfaces';

/** Config file names looked for in an app directory, in order. */
export const CONFIG_FILES = ['ebbrt.config.ts', 'ebbrt.config.mjs', 'ebbrt.config.js', 'ebbrt.config.json'] as const;

/** Finds, loads and validates an app's config. Errors name the file and the field. */
export async function loadConfig(appDir: string, configFile?: string): Promise<{ config: AppConfig; file: string }> {
  const dir = resolve(appDir);
  const file =
    configFile !== undefined
      ? resolve(dir, configFile)
      : CONFIG_FILES.map((name) => join(dir, name)).find((f) => existsSync(f));
  if (file === undefined) {
    throw new ConfigError('(file)', `no ${CONFIG_FILES.join(' / ')} in ${dir}`);
  }
  if (!existsSync(file)) throw new ConfigError('(file)', `config file ${file} does not exist`);
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError('(file)', `${file} is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    raw = module.default;
  }
  return { config: parseAppConfig(raw), file };
}
