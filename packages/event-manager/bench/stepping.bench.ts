/**
 * Issue 17 item 8: what a scheduler step costs the host, chained (steps back to back in one
 * macrotask, job queues drained between them; the default) against macrotask stepping (one
 * `setImmediate` per step, 32 queued at once; what the scheduler did before), side by side with
 * a bare `queueMicrotask` and `setImmediate` hop measured in the same run.
 *
 * Workloads where a slice does almost nothing, so the step itself is what is timed:
 * - ping-pong: two cores of one node hand one event back and forth with spawnRemote (an IPI):
 *   every slice runs one event and halts, and the other core's slice follows;
 * - await: one core, sliceBudget 1, each event awaits a promise settled by the previous one, so
 *   every slice leaves a continuation for the drain.
 * Per slice wall ns and host CPU ns (user + system, steadier than wall on a shared machine),
 * median of REPS after one warm-up. Timings never fail the run.
 */
import { EbbRef } from '@ebbrt/core-translation';
import type { Simulation, SteppingMode } from '@ebbrt/hw-x86sim';
import { SystemEbbIds, type EventManager } from '@ebbrt/interfaces';
import { hopChain, median, sampleRounds, type BenchReport, type BenchResult, type TimedSample as Sample } from '@ebbrt/bench-kit';
import { bootNativeEventManager } from './native-node.js';

const N = Number(process.env.EBBRT_BENCH_STEPPING_N ?? 50_000);
const REPS = Number(process.env.EBBRT_BENCH_STEPPING_REPS ?? 5);
const emRef = new EbbRef<EventManager>(SystemEbbIds.EventManager);

/** Times `sim.run()` per slice. */
async function timed(sim: Simulation): Promise<Sample> {
  const s0 = sim.totalSlices;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sim.run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const slices = sim.totalSlices - s0;
  return { wallNs: (wall * 1e6) / slices, cpuNs: ((c.user + c.system) * 1e3) / slices };
}

async function pingPong(stepping: SteppingMode): Promise<Sample> {
  const { sim, root } = await bootNativeEventManager(2, {}, stepping);
  let left = N;
  const hop = (): void => {
    if (--left > 0) {
      const em = emRef.deref();
      em.spawnRemote(hop, 1 - em.core);
    }
  };
  root.post(0, hop);
  const s = await timed(sim);
  if (left !== 0) throw new Error(`ping-pong: ${left} hops did not run`);
  return s;
}

async function awaitChain(stepping: SteppingMode): Promise<Sample> {
  const { sim, root } = await bootNativeEventManager(1, { sliceBudget: 1 }, stepping);
  let left = N;
  // The continuation after the await spawns the next event (through this core's rep, so it needs
  // the current core right): every slice leaves one continuation that the drain must run.
  const step = async (): Promise<void> => {
    await null;
    if (--left > 0) emRef.deref().spawn(step, { async: true });
  };
  root.post(0, step);
  const s = await timed(sim);
  if (left !== 0) throw new Error(`await chain: ${left} events did not run`);
  return s;
}

export default async function run(): Promise<BenchReport> {
  const cases: [string, () => Promise<Sample>][] = [
    ['ping-pong 2 cores, chained', () => pingPong('chained')],
    ['ping-pong 2 cores, macrotask', () => pingPong('macrotask')],
    ['await per slice, chained', () => awaitChain('chained')],
    ['await per slice, macrotask', () => awaitChain('macrotask')],
    ['queueMicrotask hop', () => hopChain(queueMicrotask, N)],
    ['setImmediate hop', () => hopChain((fn) => void setImmediate(fn), N)],
  ];
  const samples = await sampleRounds(cases, REPS);
  const results: BenchResult[] = cases.map(([name]) => {
    const xs = samples.get(name)!;
    return {
      name,
      medianNs: median(xs.map((x) => x.wallNs)),
      cpuNs: median(xs.map((x) => x.cpuNs)),
      minNs: Math.min(...xs.map((x) => x.wallNs)),
      reps: xs.length,
      n: N,
    };
  });
  const m = (name: string): BenchResult => results.find((x) => x.name === name)!;
  const ratios: Record<string, number> = {};
  for (const w of ['ping-pong 2 cores', 'await per slice']) {
    ratios[`${w}: chained/macrotask wall`] = m(`${w}, chained`).medianNs / m(`${w}, macrotask`).medianNs;
    ratios[`${w}: chained/macrotask cpu`] = (m(`${w}, chained`).cpuNs as number) / (m(`${w}, macrotask`).cpuNs as number);
    ratios[`${w}, chained / setImmediate hop`] = m(`${w}, chained`).medianNs / m('setImmediate hop').medianNs;
    ratios[`${w}, chained / microtask hop`] = m(`${w}, chained`).medianNs / m('queueMicrotask hop').medianNs;
  }
  ratios['setImmediate hop / microtask hop'] = m('setImmediate hop').medianNs / m('queueMicrotask hop').medianNs;
  return {
    name: 'hw-x86sim stepping: chained vs macrotask per slice',
    results,
    ratios,
    notes: [
      `per slice (the hops: per hop): ${N} slices, median of ${REPS} after one warm-up; medianNs is wall, cpuNs is process user+system time`,
      'target (issue 17 item 8): a slice costs the same whatever a setImmediate hop costs: chained/macrotask < 1, and chained / setImmediate hop well under 1',
    ],
  };
}
