/**
 * Event dispatch cost: N events spawned with {async: true} from one event, then
 * dispatched by the loop, timed from the first spawn to the last event's end,
 * per event. Side by side: the native loop (simulated cores, 1 and 2 cores),
 * the hosted loop (Node's event loop), and plain queueMicrotask / setImmediate
 * chains of N hops as yardsticks. Median over REPS runs, after one warm-up run.
 */
import { EbbRef, NodeContext } from '@ebbrt/core-translation';
import { SystemEbbIds, type EventManager } from '@ebbrt/interfaces';
import { eventManagerOptionsSchema, manifest, type HostedEventManagerRoot } from '../src/index.js';
import { hopChain, median, sampleRounds, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { bootNativeEventManager } from './native-node.js';

const N = 100_000;
const REPS = 7;

const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);

/** One core's workload: spawn N async events; the last one to finish records the end time. */
function spawner(n: number, state: { left: number; t0: number; t1: number }): () => void {
  const work = () => {
    if (--state.left === 0) state.t1 = performance.now();
  };
  return () => {
    if (state.t0 === 0) state.t0 = performance.now();
    const em = emRef.deref();
    for (let i = 0; i < n; i++) em.spawn(work, { async: true });
  };
}

async function nativeRun(cores: number, options: Record<string, unknown> = {}): Promise<number> {
  const { sim, root } = await bootNativeEventManager(cores, options);
  const state = { left: N * cores, t0: 0, t1: 0 };
  for (let k = 0; k < cores; k++) root.post(k, spawner(N, state));
  await sim.run();
  if (state.left !== 0) throw new Error(`native: ${state.left} events did not run`);
  return ((state.t1 - state.t0) * 1e6) / (N * cores);
}

async function hostedRun(cores: number): Promise<number> {
  const node = new NodeContext({ id: 0, numCores: cores, target: 'hosted', idSpace: 2 });
  const root = (await manifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'hosted', log: () => {} },
    eventManagerOptionsSchema.parse({}),
  )) as HostedEventManagerRoot;
  node.install(SystemEbbIds.EventManager, root);
  const state = { left: N * cores, t0: 0, t1: 0 };
  const done = new Promise<void>((resolve) => {
    const check = () => (state.left === 0 ? resolve() : setImmediate(check));
    setImmediate(check);
  });
  for (let k = 0; k < cores; k++) root.post(k, spawner(N, state));
  await done;
  root.shutdown();
  return ((state.t1 - state.t0) * 1e6) / (N * cores);
}

export default async function run(): Promise<BenchReport> {
  const cases: [string, () => Promise<number>][] = [
    ['native 1 core', () => nativeRun(1)],
    ['native 2 cores', () => nativeRun(2)],
    ['native 1 core, watchdog on', () => nativeRun(1, { watchdogBudgetUs: 50_000 })],
    ['hosted 1 core', () => hostedRun(1)],
    ['hosted 2 cores', () => hostedRun(2)],
    ['queueMicrotask chain', async () => (await hopChain(queueMicrotask, N)).wallNs],
    ['setImmediate chain', async () => (await hopChain((fn) => void setImmediate(fn), N)).wallNs],
  ];
  const samples = await sampleRounds(cases, REPS);
  const results: BenchResult[] = cases.map(([name]) => {
    const xs = samples.get(name)!;
    return { name, medianNs: median(xs), minNs: Math.min(...xs), maxNs: Math.max(...xs), reps: xs.length, events: N };
  });
  const m = (name: string) => results.find((x) => x.name === name)!.medianNs;
  const micro = m('queueMicrotask chain');
  const ratios: Record<string, number> = {};
  for (const r of results) if (r.name !== 'queueMicrotask chain') ratios[`${r.name} / microtask`] = r.medianNs / micro;
  return {
    name: 'event-manager dispatch',
    results,
    ratios,
    notes: [
      `per event: ${N} events spawned {async:true} from one event per core, time from first spawn to last event done, / events; median of ${REPS}`,
      `target: native <= 100 ns/event (native 1 core: ${m('native 1 core').toFixed(1)} ns)`,
    ],
  };
}
