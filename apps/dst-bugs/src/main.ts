import type { AppContext } from '@ebbrt/runtime';
import { client } from './client.js';
import { announces, bugOf, CLIENT, SERVER } from './protocol.js';
import { serve } from './server.js';

/** Node 2 serves the counter, node 1 drives it. */
export async function main(ctx: AppContext): Promise<void> {
  const bug = bugOf(ctx.args);
  if (ctx.node.id === SERVER) serve(ctx, bug, announces(ctx.args));
  else if (ctx.node.id === CLIENT) await client(ctx, bug);
}
