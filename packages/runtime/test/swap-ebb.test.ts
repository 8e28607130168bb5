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
