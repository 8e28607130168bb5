/**
 * Issue 11 item 7: an Ebb's console lines after boot are labelled by the Ebb (and the core it ran
 * on), not `[node 1 boot]` as every Messenger line was, minutes after boot.
 */
import { afterEach, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

// Node 2 sends node 1 a message for an Ebb nobody registered: node 1's Messenger logs the drop.
const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main(ctx) {
  if (ctx.node.id !== 2) return;
  await new EbbRef(SystemEbbIds.Messenger).deref().send(1, 0x9999, 5, IOBuf.copyOf('for nobody'));
  ctx.log('sent');
}
`;

it("a Messenger line after boot is labelled by the Messenger and its core, boot lines stay 'boot'", async () => {
  const app = tempApp(
    { entry: { frontend: './frontend.mjs', backend: './node.mjs' }, clock: 'realtime', backend: { nodes: 2, machine: { cores: 1, memory: '16MiB' } }, network: {} },
    { 'node.mjs': nodeMain, 'frontend.mjs': 'export async function main(ctx) { await ctx.backends(); ctx.log("all up"); await ctx.whenStopped(); }\n' },
  );
  cleanup.push(app.remove);
  const lines: string[] = [];
  const abort = new AbortController();
  const dropped = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (lines.some((l) => l.includes('dropping messages from node 2')) && lines.includes('[frontend core 0] all up')) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
    setTimeout(() => (clearInterval(poll), resolve()), 20_000).unref();
  });
  const running = runApp(app.dir, { output: (l) => lines.push(l), signal: abort.signal, resolveFrom: [process.cwd()] });
  await dropped;
  abort.abort();
  const run = await running;
  expect(run.failures).toEqual([]);
  const drop = lines.find((l) => l.includes('dropping messages from node 2'));
  expect(drop).toBe('[node 1 core 0 Messenger] messenger node 1: dropping messages from node 2 for Ebb 0x9999 (type 5): no handler and no type registered (logged once per Ebb)');
  expect(lines).toContain('[node 2 core 0] sent');
  expect(lines.some((l) => l.startsWith('[node 1 boot] booted: 1 core;'))).toBe(true);
  expect(lines.filter((l) => l.includes('boot]') && l.includes('dropping'))).toEqual([]);
}, 60_000);
