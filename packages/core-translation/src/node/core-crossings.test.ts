import { afterEach, describe, expect, it } from 'vitest';
import { describeCoreCrossing, watchCoreCrossings, type CoreCrossing, type CoreCrossingWatch } from './core-crossings.js';
import { cpu } from '../cpu.js';
import { NodeContext } from '../node-context.js';

/** One scheduler step as hw-x86sim runs it: a macrotask that enters `core`; its microtasks drain with it current. */
function step(core: NodeContext['cores'][number], fn: () => void): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(() => {
      cpu.current = core;
      fn();
      // Let this macrotask's microtasks drain with the core current, as the scheduler does.
      setImmediate(() => {
        cpu.current = undefined;
        resolve();
      });
    }),
  );
}

describe('watchCoreCrossings (EBBRT_DEBUG_CORES)', () => {
  const node = new NodeContext({ id: 3, numCores: 2, target: 'native' });
  const [core0, core1] = node.cores as [NodeContext['cores'][number], NodeContext['cores'][number]];
  let watch: CoreCrossingWatch | undefined;
  afterEach(() => {
    watch?.stop();
    watch = undefined;
    cpu.current = undefined;
  });

  it('reports an await on a plain Promise that another core settles: the continuation ran on that core', async () => {
    const crossings: CoreCrossing[] = [];
    watch = watchCoreCrossings((c) => crossings.push(c));
    let settle!: () => void;
    let resumedOn: unknown;
    await step(core0, () => {
      void (async () => {
        await new Promise<void>((r) => (settle = r));
        resumedOn = cpu.current;
      })();
    });
    await step(core1, () => settle());
    expect(resumedOn).toBe(core1); // the behaviour the README warns about
    expect(crossings.length).toBeGreaterThanOrEqual(1);
    expect(crossings[0]!.from).toBe(core0);
    expect(crossings[0]!.to).toBe(core1);
    expect(describeCoreCrossing(crossings[0]!)).toMatch(/awaited on node 3 core 0, resumed on node 3 core 1/);
    expect(crossings[0]!.stack).toContain('core-crossings.test.ts');
  });

  it('is silent when the continuation comes back on its own core (the CorePromise way: settled on the owner)', async () => {
    const crossings: CoreCrossing[] = [];
    watch = watchCoreCrossings((c) => crossings.push(c));
    let settle!: () => void;
    let resumedOn: unknown;
    await step(core0, () => {
      void (async () => {
        await new Promise<void>((r) => (settle = r));
        resumedOn = cpu.current;
      })();
    });
    // Core 1 does not settle it; it asks core 0 to (what EventManager.promise() does with an event).
    await step(core1, () => undefined);
    await step(core0, () => settle());
    expect(resumedOn).toBe(core0);
    expect(crossings).toEqual([]);
  });

  it('costs nothing when off: no hook, no report, even for a crossing', async () => {
    const crossings: CoreCrossing[] = [];
    watchCoreCrossings((c) => crossings.push(c)).stop();
    let settle!: () => void;
    await step(core0, () => void (async () => await new Promise<void>((r) => (settle = r)))());
    await step(core1, () => settle());
    expect(crossings).toEqual([]);
  });
});
