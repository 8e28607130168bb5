import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, parseAppConfig, type AppConfig } from '@ebbrt/interfaces';
import { importUrl, loadOnce, type ModuleCache } from '../resolve/module-cache.js';

/** Config file names looked for in an app directory, in order. */
export const CONFIG_FILES = ['ebbrt.config.ts', 'ebbrt.config.mts', 'ebbrt.config.mjs', 'ebbrt.config.js', 'ebbrt.config.json'] as const;

/**
 * Finds, loads and validates an app's config. Errors name the file and the field. `modules` keeps
 * the imported module for its owner's later loads (a seed runner's next seed).
 */
export async function loadConfig(appDir: string, configFile?: string, modules?: ModuleCache): Promise<{ config: AppConfig; file: string }> {
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
    let module: { default?: unknown };
    try {
      const url = pathToFileURL(file).href;
      module = await loadOnce(modules, url, () => importUrl<{ default?: unknown }>(url));
    } catch (error) {
      throw commonJsConfigError(file, error) ?? error;
    }
    raw = module.default;
  }
  return { config: parseAppConfig(raw), file };
}

/**
 * A config compiled as CommonJS (its package.json has no "type": "module", as after `npm init -y`)
 * cannot require() the ESM-only @ebbrt packages. The ebbrt CLI loads an app's .ts as ESM
 * (config/app-typescript.ts); under another loader, say what to change.
 */
function commonJsConfigError(file: string, error: unknown): ConfigError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_REQUIRE_CYCLE_MODULE' && code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
  return new ConfigError(
    '(file)',
    `${file} was loaded as CommonJS (its package.json has no "type": "module") and @ebbrt packages are ES modules only ` +
      `(${code}): run it with the ebbrt CLI, which loads an app's .ts files as ES modules, or add "type": "module" to package.json, ` +
      `or rename it ebbrt.config.mts`,
  );
}
