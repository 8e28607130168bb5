/**
 * EBBRT_DEBUG_CORES: on a booted native node (hw-x86sim cores, the native EventManager), an await
 * on a plain Promise that core 1 settles resumes on core 1 and is reported; the EventManager's
 * CorePromise comes back to core 0 and is not.
 */
import { watchCoreCrossings, describeCoreCrossing, type CoreCrossing } from '@ebbrt/core-translation/node';
import { afterEach, describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { baseConfig, tempApp } from './temp-app.js';

const MAIN = `import { systemEbb } from '@ebbrt/core-translation';
export async function main(ctx) {
  const em = systemEbb('EventManager');
  const kept = em.deref().promise();
  em.deref().spawnRemote(() => kept.resolve(), 1);
  await kept.promise;
  ctx.log('core promise: resumed on core ' + em.deref().core);
  // After this one, main goes on running on core 1.
  await new Promise((resolve) => em.deref().spawnRemote(() => resolve(), 1));
  ctx.log('plain promise: resumed on core ' + em.deref().core);
}
`;

describe('EBBRT_DEBUG_CORES reports a continuation that crossed cores', () => {
  let app: ReturnType<typeof tempApp> | undefined;
  afterEach(() => app?.remove());

  it('a plain Promise settled on core 1 is reported; a CorePromise is not', async () => {
    app = tempApp(baseConfig(), { 'main.mjs': MAIN });
    const lines: string[] = [];
    const crossings: CoreCrossing[] = [];
    const watch = watchCoreCrossings((c) => crossings.push(c));
    try {
      await runApp(app.dir, { output: (l) => lines.push(l) });
    } finally {
      watch.stop();
    }
    expect(lines.join('\n')).toContain('plain promise: resumed on core 1');
    expect(lines.join('\n')).toContain('core promise: resumed on core 0');
    const mine = crossings.filter((c) => c.from.index === 0 && c.to.index === 1 && c.stack?.includes('main.mjs'));
    expect(mine.length, crossings.map(describeCoreCrossing).join('\n')).toBe(1);
  });
});
