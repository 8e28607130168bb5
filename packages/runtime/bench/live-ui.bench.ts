/**
 * What `--ui` costs. Off is the run as the CLI makes it without the flag (live-ui.ts is not even
 * imported); on starts the dashboard from onStarted with a page connected (an SSE stream read by
 * fetch), as `--ui` does. On a run this short, on's extra time is mostly the server's listen and
 * close and the page's connect. Runs alternate off/on so machine noise hits both alike.
 *
 * Then the hot path alone: one busy core's slice rate with the trace off (no tap: what every run
 * without `--ui` does), against the trace tapped into the dashboard's TraceRing plus host-time
 * sampling (what `--ui` turns on for the cores and trace panels).
 */
import { fileURLToPath } from 'node:url';
import { Simulation } from '@ebbrt/hw-x86sim';
import { TraceRing } from '@ebbrt/live-view';
import { runApp, startRunUi, type StartedRun } from '../src/index.js';
import { median, type BenchReport } from '@ebbrt/bench-kit';

const ONE = fileURLToPath(new URL('./apps/one-node', import.meta.url));
const quiet = { output: () => {} };
const RUNS = 15;

async function timed(on: boolean): Promise<number> {
  let ui: Promise<{ close(): Promise<void> }> | undefined;
  let reader: Promise<void> | undefined;
  const t0 = performance.now();
  await runApp(ONE, {
    ...quiet,
    ...(on
      ? {
          onStarted: (run: StartedRun) => {
            ui = startRunUi(run, 0, 'virtual', 'bench').then(async (server) => {
              const res = await fetch(server.url + 'events');
              const body = res.body!.getReader();
              reader = (async () => {
                while (!(await body.read()).done);
              })().catch(() => undefined);
              return server;
            });
          },
        }
      : {}),
  });
  const ms = performance.now() - t0;
  await (await ui)?.close();
  await reader;
  return ms;
}

const SLICES = 200_000;

/** ns per slice of one busy core; `ui` taps the trace into a ring and samples the core, as --ui does. */
async function nsPerSlice(ui: boolean): Promise<number> {
  const sim = new Simulation({ seed: 1 });
  if (ui) {
    sim.trace.tap = new TraceRing(4096).push;
    sim.sampleCores = true;
  }
  let left = SLICES;
  sim.createMachine({ cores: 1, memoryBytes: 4096 }).cores[0]!.start({ runSlice: () => (--left > 0 ? 'yield' : 'halt') });
  const t0 = performance.now();
  await sim.run();
  return ((performance.now() - t0) * 1e6) / SLICES;
}

export default async function run(): Promise<BenchReport> {
  // Warm both paths (module imports, the first server).
  await timed(false);
  await timed(true);
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    off.push(await timed(false));
    on.push(await timed(true));
  }
  const offMs = median(off);
  const onMs = median(on);
  await nsPerSlice(false);
  await nsPerSlice(true);
  const plain: number[] = [];
  const tapped: number[] = [];
  for (let i = 0; i < 9; i++) {
    plain.push(await nsPerSlice(false));
    tapped.push(await nsPerSlice(true));
  }
  const plainNs = median(plain);
  const tappedNs = median(tapped);
  return {
    name: 'runtime: --ui cost',
    results: [
      { name: 'one-node run, --ui off (runApp)', medianNs: offMs * 1e6, runs: RUNS },
      { name: 'one-node run, --ui on, page connected', medianNs: onMs * 1e6, runs: RUNS },
      { name: 'slice, trace off (no --ui)', medianNs: plainNs, runs: 9 },
      { name: 'slice, trace tapped into TraceRing + sampleCores (--ui on)', medianNs: tappedNs, runs: 9 },
    ],
    ratios: { 'ui on / ui off': onMs / offMs, 'slice: tapped / off': tappedNs / plainNs },
    notes: [
      'off is the CLI path without --ui: live-ui.ts is imported only for the flag, so off costs one undefined check',
      'the slice cases time the scheduler alone; off is what every run without --ui pays (no tap, no sampling)',
    ],
  };
}
