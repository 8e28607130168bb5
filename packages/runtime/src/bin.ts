#!/usr/bin/env node
import { cli } from './cli/main.js';
import { enableAppTypeScript } from './config/app-typescript.js';

/**
 * Apps write `ebbrt.config.ts` and TypeScript entry points. Running from the published build
 * (plain Node), register tsx's loader so those import like JavaScript; under a TypeScript loader
 * already (the workspace's `pnpm ebbrt`, which runs src/ through tsx) there is nothing to do.
 */
async function enableTypeScript(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return;
  await enableAppTypeScript(); // tsx, with an app's .ts as ESM even in a CommonJS package
}

enableTypeScript()
  .then(() => cli(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
    // A realtime app may leave sockets or timers behind once it has ended.
    setImmediate(() => process.exit(code));
  });
