/**
 * Boot time: from runApp() (what `ebbrt run` calls once Node is up) to the app's
 * entry point on a back-end node, for one node, and the per-node cost of booting
 * 100 nodes in one application. The first run pays for importing the Ebb
 * packages; later runs are what a warm process (tests, a node pool) sees.
 */
import { fileURLToPath } from 'node:url';
import { runApp } from '../src/index.js';
import { median, type BenchReport } from '@ebbrt/bench-kit';

const ONE = fileURLToPath(new URL('./apps/one-node', import.meta.url));
const HUNDRED = fileURLToPath(new URL('./apps/hundred-nodes', import.meta.url));
const quiet = { output: () => {} };

export default async function run(): Promise<BenchReport> {
  const coldStart = performance.now();
  const cold = await runApp(ONE, quiet);
  const coldMs = cold.bootMs.get('node 1')!;
  const coldTotal = performance.now() - coldStart;

  const warm: number[] = [];
  for (let i = 0; i < 30; i++) warm.push((await runApp(ONE, quiet)).bootMs.get('node 1')!);

  const perNode: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await runApp(HUNDRED, quiet);
    const last = Math.max(...[...r.bootMs.values()]);
    perNode.push(last / 100);
  }
  const warmMedian = median(warm);
  return {
    name: 'runtime: boot',
    results: [
      { name: 'first boot in process (imports Ebb packages)', medianNs: coldMs * 1e6, totalMs: coldTotal },
      { name: 'one node, runApp -> entry (warm)', medianNs: warmMedian * 1e6, runs: warm.length },
      { name: '100 nodes, per node (warm)', medianNs: median(perNode) * 1e6, runs: perNode.length },
    ],
    ratios: {
      'one node warm / 5 ms target': warmMedian / 5,
      'per node in 100 / one node': median(perNode) / warmMedian,
    },
    notes: ['times exclude Node start-up and the TypeScript loader; 2 cores and 64 MiB per node (16 MiB for the 100)'],
  };
}
