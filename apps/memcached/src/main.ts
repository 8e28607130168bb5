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
  // A back-end's main may return: the run never waits for it and the server keeps serving. A
  // front-end's main is the run, so it serves until the app is asked to stop.
  if (ctx.role === 'backend') return;
  await ctx.whenStopped();
  server.close();
  ctx.log('memcached: stopped');
}
