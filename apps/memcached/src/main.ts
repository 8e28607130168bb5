/**
 * The memcached app's entry point. It reaches the node's NetworkManager through
 * its well-known Ebb id, so the config decides which stack serves it (hosted
 * node:net on a front-end, the native lwIP-style stack on a back-end).
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NetworkManager } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { parseMemcachedArgs } from './args.js';
import { startMemcached } from './server/server.js';

export default async function main(ctx: AppContext): Promise<void> {
  const args = parseMemcachedArgs(ctx.args);
  const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref();
  const server = await startMemcached(nm, {
    port: args.port,
    memoryLimit: args.memoryLimit,
    maxItemSize: args.maxItemSize,
    threads: ctx.node.numCores,
    log: (line) => ctx.log(line),
  });
  ctx.log(`memcached: listening on port ${server.port} (memory limit ${args.memoryLimit} bytes, max item ${args.maxItemSize} bytes)`);
  // A back-end's main may return: the run never waits for it and the server
  // keeps serving. A front-end's main is the run: it must not settle until the
  // app is asked to stop, which for a hosted server is SIGINT/SIGTERM (the CLI
  // stops the simulation on the same signals).
  if (ctx.role === 'backend') return;
  await untilSignalled();
  server.close();
  ctx.log('memcached: stopped');
}

function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
