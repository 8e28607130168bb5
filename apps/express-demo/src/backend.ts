import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { runNodeApp } from '@ebbrt/node-compat';
import type { AppContext } from '@ebbrt/runtime';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The node's entry (a back-end's, or the front-end's in ebbrt.hosted.config.ts): it runs the Node.js app named first on the node's command line (the
 * config's `args`, as EbbRT read the script name through an Ebb), passing it the rest. Under the
 * virtual clock the app's clock and randomness are the seeded simulation's.
 */
export async function main(ctx: AppContext): Promise<void> {
  const [script, ...rest] = ctx.args;
  if (script === undefined) throw new Error('express-demo: no script in the config args (e.g. args: ["server/app.js", "3000"])');
  runNodeApp(
    { node: ctx.node, args: rest, log: (line) => ctx.log(line), exit: (code) => ctx.exit(code) },
    {
      entry: resolve(APP_DIR, script),
      deterministic: ctx.config.clock === 'virtual',
      seed: ctx.config.seed,
      env: { NODE_ENV: 'production' },
    },
  );
  // On the front-end (the hosted config) main is the run: serve until asked to stop.
  if (ctx.role === 'frontend') await ctx.whenStopped();
}
