/**
 * The memcached app's entry point. It reaches the node's NetworkManager through
 * its well-known Ebb id, so the config decides which stack serves it (hosted
 * node:net on a front-end, the native lwIP-style stack on a back-end).
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type MemoryAllocator, type NetworkManager } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { parseMemcachedArgs, USAGE } from './args.js';
import { startMemcached } from './server/server.js';
import type { MemoryPressureProbe } from './server/options.js';

export default async function main(ctx: AppContext): Promise<void> {
  const args = parseMemcachedArgs(ctx.args);
  if (args.help === true) {
    for (const line of USAGE.split('\n')) ctx.log(line);
    return;
  }
  const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref();
  const server = await startMemcached(nm, {
    port: args.port,
    memoryLimit: args.memoryLimit,
    maxItemSize: args.maxItemSize,
    threads: ctx.node.numCores,
    log: (line) => ctx.log(line),
    memoryPressure: nodeMemory(ctx, args.memoryReserve),
  });
  ctx.log(`memcached: listening on port ${server.port} (memory limit ${args.memoryLimit} bytes, max item ${args.maxItemSize} bytes)`);
  // A back-end's main may return: the run never waits for it and the server keeps serving. A
  // front-end's main is the run, so it serves until the app is asked to stop.
  if (ctx.role === 'backend') return;
  await ctx.whenStopped();
  server.close();
  ctx.log('memcached: stopped');
}

/**
 * On a node with a MemoryAllocator (a native back-end), the store also yields to the node's own
 * memory: values pin their receive buffers, and the NIC needs free ones to keep receiving.
 */
function nodeMemory(ctx: AppContext, reserve: number | undefined): MemoryPressureProbe | undefined {
  if (ctx.node.localIdMap.get(SystemEbbIds.MemoryAllocator) === undefined) return undefined;
  const allocator = new EbbRef<MemoryAllocator>(SystemEbbIds.MemoryAllocator);
  const total = allocator.deref().stats().totalBytes;
  return { freeBytes: () => allocator.deref().freeBytes(), reserveBytes: reserve ?? Math.floor(total / 8) };
}
