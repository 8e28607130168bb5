import type { NodeAppHost } from './host.js';
import { runNodeApp } from './run.js';

/** What the runtime hands an entry (an `AppContext` is one), as far as this entry needs it. */
interface EntryContext extends NodeAppHost {
  readonly role: 'frontend' | 'backend';
  readonly config: { readonly clock: 'virtual' | 'realtime'; readonly seed: number };
  whenStopped(): Promise<void>;
}

/**
 * A ready-made node entry (`@ebbrt/node-compat/entry`, what `ebbrt node <script>` boots): runs the
 * Node app whose absolute path is the first argument, with the rest as its `process.argv.slice(2)`.
 */
export async function main(ctx: EntryContext): Promise<void> {
  const [script, ...rest] = ctx.args;
  if (script === undefined) throw new Error('@ebbrt/node-compat/entry: the first argument must be the Node app to run');
  runNodeApp(
    { node: ctx.node, args: rest, log: (line) => ctx.log(line), exit: (code) => ctx.exit(code) },
    { entry: script, deterministic: ctx.config.clock === 'virtual', seed: ctx.config.seed },
  );
  if (ctx.role === 'frontend') await ctx.whenStopped();
}
