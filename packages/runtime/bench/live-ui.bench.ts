/**
 * What `--ui` costs. Off is the run as the CLI makes it without the flag (live-ui.ts is not even
 * imported); on starts the dashboard from onStarted with a page connected (an SSE stream read by
 * fetch), as `--ui` does. On a run this short, on's extra time is mostly the server's listen and
 * close and the page's connect. Runs alternate off/on so machine noise hits both alike.
 */
import { fileURLToPath } from 'node:url';
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
  return {
    name: 'runtime: --ui cost',
    results: [
      { name: 'one-node run, --ui off (runApp)', medianNs: offMs * 1e6, runs: RUNS },
      { name: 'one-node run, --ui on, page connected', medianNs: onMs * 1e6, runs: RUNS },
    ],
    ratios: { 'ui on / ui off': onMs / offMs },
    notes: ['off is the CLI path without --ui: live-ui.ts is imported only for the flag, so off costs one undefined check'],
  };
}
