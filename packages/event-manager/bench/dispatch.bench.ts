/**
 * Event dispatch cost: N events spawned with {async: true} from one event, then
 * dispatched by the loop, timed from the first spawn to the last event's end,
 * per event. Side by side: the native loop (simulated cores, 1 and 2 cores),
 * the hosted loop (Node's event loop), and plain queueMicrotask / setImmediate
 * chains of N hops as yardsticks. Median over REPS runs, after one warm-up run.
 */
import { NodeContext } from '@ebbrt/core-translation';
import { Simulation } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EventManager } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
import { eventManagerOptionsSchema, manifest, type HostedEventManagerRoot, type NativeEventManagerRoot } from '../src/index.js';
import { median, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';

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
  const sim = new Simulation({ seed: 1 });
  const machine = sim.createMachine({ cores, memoryBytes: 1 << 20 });
  const node = new NodeContext({ id: 1, numCores: cores, target: 'native', idSpace: 2 });
  const root = (await manifest.create(
    { id: SystemEbbIds.EventManager, node, target: 'native', machine, simulation: sim, log: () => {} },
    eventManagerOptionsSchema.parse(options),
  )) as NativeEventManagerRoot;
  node.install(SystemEbbIds.EventManager, root);
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

function microtaskChain(): Promise<number> {
  return new Promise((resolve) => {
    let i = 0;
    const t0 = performance.now();
    const hop = () => {
      if (++i < N) queueMicrotask(hop);
      else resolve(((performance.now() - t0) * 1e6) / N);
    };
    queueMicrotask(hop);
  });
}

function immediateChain(): Promise<number> {
  return new Promise((resolve) => {
    let i = 0;
    const t0 = performance.now();
    const hop = () => {
      if (++i < N) setImmediate(hop);
      else resolve(((performance.now() - t0) * 1e6) / N);
    };
    setImmediate(hop);
  });
}

export default async function run(): Promise<BenchReport> {
  const cases: [string, () => Promise<number>][] = [
    ['native 1 core', () => nativeRun(1)],
    ['native 2 cores', () => nativeRun(2)],
    ['native 1 core, watchdog on', () => nativeRun(1, { watchdogBudgetUs: 50_000 })],
    ['hosted 1 core', () => hostedRun(1)],
    ['hosted 2 cores', () => hostedRun(2)],
    ['queueMicrotask chain', microtaskChain],
    ['setImmediate chain', immediateChain],
  ];
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (const [, fn] of cases) await fn(); // warm-up
  // Rounds interleave the cases so drift (GC, CPU clock) hits them alike.
  for (let r = 0; r < REPS; r++) {
    for (const [name, fn] of cases) samples.get(name)!.push(await fn());
  }
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
