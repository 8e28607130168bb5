/**
 * What the live view's core counters cost with `--ui` off: the scheduler's slice rate on one busy
 * core with CoreStats (the default) against `coreStats: false` (no counters), and with host-time
 * sampling on (what `--ui` would turn on). Runs interleave so machine noise hits all alike; median
 * over REPS. Never fails on timing.
 */
import { Simulation } from '@ebbrt/hw-x86sim';
import { median, type BenchReport } from '@ebbrt/bench-kit';

const SLICES = 200_000;
const REPS = 9;

async function nsPerSlice(coreStats: boolean, sample: boolean): Promise<number> {
  const sim = new Simulation({ coreStats });
  sim.sampleCores = sample;
  let left = SLICES;
  sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0]!.start({ runSlice: () => (--left > 0 ? 'yield' : 'halt') });
  const t0 = performance.now();
  await sim.run();
  return ((performance.now() - t0) * 1e6) / SLICES;
}

export default async function run(): Promise<BenchReport> {
  await nsPerSlice(true, false);
  await nsPerSlice(false, false);
  const without: number[] = [];
  const withStats: number[] = [];
  const sampled: number[] = [];
  for (let i = 0; i < REPS; i++) {
    without.push(await nsPerSlice(false, false));
    withStats.push(await nsPerSlice(true, false));
    sampled.push(await nsPerSlice(true, true));
  }
  const a = median(without);
  const b = median(withStats);
  const c = median(sampled);
  return {
    name: 'hw-x86sim: core counters cost (live-ui off)',
    results: [
      { name: 'slice, coreStats: false (no counters)', medianNs: a, runs: REPS },
      { name: 'slice, coreStats on, --ui off (default)', medianNs: b, runs: REPS },
      { name: 'slice, coreStats on + sampleCores (--ui on)', medianNs: c, runs: REPS },
    ],
    ratios: { 'counters on / none': b / a, 'sampling on / none': c / a },
    notes: ['coreStats: false still pays the null test; the ratio is the cost of the bumps themselves'],
  };
}
