import type { AppContext } from '@ebbrt/runtime';
import { serveCounter } from './counter-node.js';
import { drive } from './driver.js';
import { bugOf, DRIVER } from './protocol.js';

/** Node 1 drives the distributed counter held by nodes 2 and 3. */
export async function main(ctx: AppContext): Promise<void> {
  const bug = bugOf(ctx.args);
  if (ctx.node.id === DRIVER) await drive(ctx);
  else serveCounter(ctx, bug);
}
