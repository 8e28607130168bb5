// Running npm, pnpm and the installed `ebbrt` bin as a user's shell would: a clean environment
// (nothing from the test runner: no NODE_OPTIONS=--conditions=source, no npm_config_* that pnpm
// sets for scripts), a bounded time, and a failure that says what went wrong in a sentence before
// the tool's own output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a failed npm/pnpm run most likely means, from the error codes they print. */
export function diagnose(output: string, registry: string | undefined): string | undefined {
  const where = registry ?? 'the registry';
  if (/ECONNREFUSED|ECONNRESET|EAI_AGAIN|ENOTFOUND|fetch failed|socket hang up|error sending request/.test(output)) {
    return `the registry at ${where} is unreachable (is it running? nothing listens there)`;
  }
  if (/E404|404 Not Found|ERR_PNPM_FETCH_404|no such package available/i.test(output)) {
    const name = /GET https?:\/\/[^/\s]+\/([^\s:]+)/.exec(output)?.[1];
    return `a package is not on ${where}${name ? ` (${decodeURIComponent(name)})` : ''}: uplinks are off, so everything must be published there first`;
  }
  if (/EPUBLISHCONFLICT|E409|409 Conflict|cannot publish over|already present/i.test(output)) {
    return `the publish was refused by ${where}: that version is already published (bump it with a changeset)`;
  }
  if (/ENEEDAUTH|E401|401 Unauthorized|unauthorized|need auth|ERR_PNPM_NO_AUTH/i.test(output)) {
    return `the publish was refused by ${where}: not logged in (no auth token for it in the npm userconfig)`;
  }
  if (/E403|403 Forbidden/i.test(output)) return `the publish was refused by ${where}: forbidden for this user`;
  return undefined;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** What the run is for, in the error: "npm install in /tmp/app". */
  what: string;
  /** The registry the run talks to, named in a diagnosis. */
  registry?: string;
  timeoutMs?: number;
}

/** Runs a command to completion; returns stdout + stderr, or throws naming what failed and why. */
export function run(command: string, args: readonly string[], options: RunOptions): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error !== undefined || result.status !== 0) {
    const how = result.error !== undefined ? result.error.message : result.signal !== null ? `killed by ${result.signal}` : `exit code ${result.status}`;
    const why = diagnose(output, options.registry);
    const tail = output.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${options.what} failed (${how})${why ? `: ${why}` : ''}\n--- output (last 40 lines) ---\n${tail}`);
  }
  return output;
}

/** The environment a user's shell would give: PATH and HOME, nothing the test runner set. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TERM', 'TMPDIR', 'CI', 'TURBO_TELEMETRY_DISABLED'];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, TURBO_TELEMETRY_DISABLED: '1', ...extra };
}

/**
 * An npm configuration of its own for one registry: a userconfig holding the registry and (to
 * publish) its token, and a cache directory, both under `dir`, so nothing reads or writes the
 * user's ~/.npmrc or ~/.npm.
 */
export function npmEnv(dir: string, registry: string, token?: string): NodeJS.ProcessEnv {
  mkdirSync(dir, { recursive: true });
  const userconfig = join(dir, 'npmrc');
  const globalconfig = join(dir, 'global-npmrc');
  const host = registry.replace(/^https?:/, '');
  writeFileSync(
    userconfig,
    [`registry=${registry}`, ...(token ? [`${host}:_authToken=${token}`] : []), 'audit=false', 'fund=false', 'update-notifier=false', ''].join('\n'),
  );
  writeFileSync(globalconfig, '');
  return cleanEnv({
    npm_config_userconfig: userconfig,
    npm_config_globalconfig: globalconfig,
    npm_config_cache: join(dir, 'cache'),
    npm_config_registry: registry,
    npm_config_update_notifier: 'false',
  });
}
