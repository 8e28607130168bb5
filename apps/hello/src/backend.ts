import { systemEbb } from '@ebbrt/core-translation';
import type { AppContext } from '@ebbrt/runtime';

/**
 * Runs on core 0 of each back-end node. Every core says hello, then spawns a
 * piece of work on the next core, which reports where it ran.
 */
export function main(ctx: AppContext): void {
  const events = systemEbb('EventManager');
  const timer = systemEbb('Timer');
  const memory = systemEbb('MemoryAllocator');
  const cores = ctx.node.numCores;
  for (let core = 0; core < cores; core++) {
    events.deref().spawnRemote(async () => {
      const here = events.deref().core;
      ctx.log(`hello from node ${ctx.node.id} core ${here}`);
      // The greeting lives in the node's physical memory, from this core's allocator.
      const greeting = memory.deref().allocIOBuf(64);
      const text = new TextEncoder().encode(`node ${ctx.node.id} core ${here}`);
      greeting.bytes.set(text, greeting.offset);
      greeting.trimEnd(greeting.length - text.length);
      ctx.log(`wrote ${greeting.length} bytes at physical 0x${greeting.physAddr().toString(16)}`);
      greeting.release();
      const next = (here + 1) % cores;
      events.deref().spawnRemote(() => {
        ctx.log(`work from core ${here} ran on node ${ctx.node.id} core ${events.deref().core}`);
      }, next);
      // Blocking: the continuation after `await` resumes on this same core.
      await timer.deref().sleep(100 * (here + 1));
      ctx.log(`core ${events.deref().core} woke after ${100 * (here + 1)} us (t=${timer.deref().now()} us)`);
    }, core);
  }
}
