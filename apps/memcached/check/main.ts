/**
 * The memcached checker's entry (ebbrt.test.config.ts): node 1 serves memcached on the native
 * stack, node 2 runs the seeded client (client.ts) against it; `ebbrt test` swarms the config's
 * faults and checks ebbrt.invariants.ts at quiescence. The store's clock is the node's Timer, so
 * a run is deterministic by seed.
 *
 * `--planted-bug NAME` breaks the store on purpose (planted.ts), to show the checker catches it.
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NetworkManager, type Timer } from '@ebbrt/interfaces';
import type { AppContext } from '@ebbrt/runtime';
import { startMemcached } from '../src/server/server.js';
import { runClient } from './client.js';
import { plantBug, plantedBugOf } from './planted.js';

export const SERVER_NODE = 1;
export const SERVER_ADDRESS = '10.0.0.2';
const PORT = 11211;

export async function main(ctx: AppContext): Promise<void> {
  const bug = plantedBugOf(ctx.args);
  const timer = new EbbRef<Timer>(SystemEbbIds.Timer).deref();
  if (ctx.node.id === SERVER_NODE) {
    const nm = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager).deref();
    const epochMs = 1_800_000_000_000; // a fixed wall clock: no Date.now in a simulation
    const server = await startMemcached(nm, { port: PORT, threads: ctx.node.numCores, nowMs: () => epochMs + timer.now() / 1000, log: (l) => ctx.log(l) });
    if (bug !== undefined) plantBug(server.store, bug);
    return;
  }
  await runClient(ctx, { server: SERVER_ADDRESS, port: PORT, connections: 3, keysPerConnection: 6, opsPerConnection: 60, seed: ctx.config.seed });
}
