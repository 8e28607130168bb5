import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runNodeApp } from '@ebbrt/node-compat';
import type { AppContext } from '@ebbrt/runtime';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** args: [server script, port, client script, ...client args]: node 1 serves, node 2 is the client (it knows node 1 as "server"). */
export function main(ctx: AppContext): void {
  const [serverScript, port, clientScript, ...clientArgs] = ctx.args as string[];
  const server = ctx.node.id === 1;
  runNodeApp(
    { node: ctx.node, args: server ? [port!] : clientArgs, log: (line) => ctx.log(line), exit: (code) => ctx.exit(code) },
    { entry: join(APP_DIR, server ? serverScript! : clientScript!), hosts: { server: '10.0.0.2' }, deterministic: ctx.config.clock === 'virtual', seed: ctx.config.seed, env: { NODE_ENV: 'production' } },
  );
}
