import type { AppContext } from '@ebbrt/runtime';

/** Runs on the front-end (Node.js), which booted the back-end nodes. */
export function main(ctx: AppContext): void {
  const nodes = ctx.config.backend?.nodes ?? 0;
  ctx.log(`front-end up; booted ${nodes} back-end node(s) of ${ctx.config.backend?.machine.cores ?? 0} cores`);
}
