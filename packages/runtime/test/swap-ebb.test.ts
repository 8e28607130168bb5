import { afterEach, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { baseConfig, tempApp } from './temp-app.js';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

// A user's own Timer implementation, living in the app and named by path in the config.
const frozenTimer = `export const manifest = {
  name: 'frozen-timer', implements: 'Timer', targets: ['native', 'hosted'],
  create: (ctx, options) => ({
    handleFault: (core) => ({
      start() { throw new Error('frozen'); }, stop() {}, sleep: async () => {},
      now: () => options.at + core.index,
    }),
  }),
};\n`;

const entry = `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export function main(ctx) {
  ctx.log('timer says ' + new EbbRef(SystemEbbIds.Timer).deref().now());
}\n`;

it('swapping an Ebb is a one-line config change', async () => {
  const lines: string[] = [];
  const run = async (ebbs: Record<string, unknown>) => {
    const app = tempApp(baseConfig({ backend: { nodes: 1, machine: { cores: 1, memory: 4096 }, ebbs } }), {
      'main.mjs': entry,
      'frozen-timer.mjs': frozenTimer,
    });
    cleanup.push(app.remove);
    lines.length = 0;
    const result = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
    return { result, said: lines.find((l) => l.includes('timer says')) };
  };
  const standard = await run({});
  expect(standard.said).toBe('[node 1 core 0] timer says 0');
  const swapped = await run({ Timer: { package: './frozen-timer.mjs', options: { at: 42 } } });
  expect(swapped.said).toBe('[node 1 core 0] timer says 42');
  expect(swapped.result.backends[0]!.installed.find((e) => e.kind === 'Timer')!.packageName).toBe('./frozen-timer.mjs');
});

it('a back-end main that throws, rejects or never settles is reported, and the run still ends', async () => {
  const entry = `export function main(ctx) {
    if (ctx.node.id === 1) throw new Error('boom on node 1');
    if (ctx.node.id === 2) return Promise.reject(new Error('rejected on node 2'));
    return new Promise(() => {}); // node 3 serves forever
  }\n`;
  const app = tempApp(baseConfig({ backend: { nodes: 3, machine: { cores: 1, memory: '4MiB' } } }), { 'main.mjs': entry });
  cleanup.push(app.remove);
  const lines: string[] = [];
  const run = await runApp(app.dir, { output: (l) => lines.push(l) });
  expect(run.result.reason).toBe('quiescent');
  expect(run.exitCode).toBe(1);
  expect(run.failures.map((f) => [f.node, (f.error as Error).message]).sort()).toEqual([
    [1, 'boom on node 1'],
    [2, 'rejected on node 2'],
  ]);
  expect(lines.some((l) => l.startsWith('[node 1 core 0] event #') && l.includes('boom on node 1'))).toBe(true);
  expect(run.bootMs.size).toBe(3);
});
