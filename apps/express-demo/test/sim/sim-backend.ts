import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runNodeApp } from '@ebbrt/node-compat';
import type { AppContext } from '@ebbrt/runtime';

const APP_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Node 1 runs the unmodified Express app; node 2 the unmodified HTTP client, which knows node 1 as "server". */
export function main(ctx: AppContext): void {
  const server = ctx.node.id === 1;
  runNodeApp(
    { node: ctx.node, args: server ? ['3000'] : [], log: (line) => ctx.log(line), exit: (code) => ctx.exit(code) },
    {
      entry: server ? join(APP_DIR, 'server/app.js') : join(APP_DIR, 'test/sim/client.cjs'),
      hosts: { server: '10.0.0.2' },
      deterministic: true,
      seed: ctx.config.seed,
    },
  );
}
