#!/usr/bin/env node
// `pnpm release` after `turbo run build`: `changeset publish` against the registry pnpm and npm
// are configured with. changeset decides what to publish by asking `npm info --registry
// $npm_config_registry`, falling back to registry.npmjs.org, and pnpm 12 does not put
// npm_config_registry into a script's environment. With a private registry in .npmrc only,
// changeset would look each package up on the public registry, find none, try to publish
// every one, and get a 409 for each version the private registry already holds.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const changeset = join(root, 'node_modules', '.bin', 'changeset');
if (!existsSync(changeset)) {
  console.error(`release: ${changeset} not found (run it from the workspace root after pnpm install)`);
  process.exit(1);
}
const registry = process.env.npm_config_registry ?? execFileSync('pnpm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' }).trim();
if (!/^https?:\/\//.test(registry)) {
  console.error(`release: pnpm config get registry gave ${JSON.stringify(registry)}, not a registry URL`);
  process.exit(1);
}
console.log(`release: changeset publish to ${registry} (a package whose version is already there is skipped with a warning: a change without a changeset is not published)`);
const result = spawnSync(changeset, ['publish'], { cwd: root, stdio: 'inherit', env: { ...process.env, npm_config_registry: registry } });
process.exit(result.status ?? 1);
