/**
 * Boot time: from runApp() (what `ebbrt run` calls once Node is up) to the app's
 * entry point on a back-end node, for one node, and the per-node cost of booting
 * 100 nodes in one application. The first run pays for importing the Ebb
 * packages; later runs are what a warm process (tests, a node pool) sees.
 */
import { fileURLToPath } from 'node:url';
import { MemoryRecycler, type GuestMemoryKind } from '@ebbrt/hw-x86sim';
import { runApp, type RunAppOptions } from '../src/index.js';
import { median, type BenchReport } from '@ebbrt/bench-kit';

const ONE = fileURLToPath(new URL('./apps/one-node', import.meta.url));
const HUNDRED = fileURLToPath(new URL('./apps/hundred-nodes', import.meta.url));
const quiet = { output: () => {} };

/** Boot time of node 1 (or, for `last`, of the last node), giving the run's memory back to `recycler` if any. */
async function boot(app: string, guestMemory: GuestMemoryKind, recycler?: MemoryRecycler, last = false): Promise<number> {
  let done: (() => void) | undefined;
  const options: RunAppOptions = { ...quiet, guestMemory, ...(recycler !== undefined ? { memory: recycler, onStarted: (run) => (done = () => run.simulation.recycleMemory()) } : {}) };
  const r = await runApp(app, options);
  done?.();
  return last ? Math.max(...r.bootMs.values()) : r.bootMs.get('node 1')!;
}

export default async function run(): Promise<BenchReport> {
  const coldStart = performance.now();
  const cold = await runApp(ONE, quiet);
  const coldMs = cold.bootMs.get('node 1')!;
  const coldTotal = performance.now() - coldStart;

  // The variants take turns boot by boot, so the machine's load (shared with other work) falls on each alike.
  const recycler = new MemoryRecycler();
  const warm = { shared: [] as number[], private: [] as number[], recycled: [] as number[] };
  for (let i = 0; i < 30; i++) {
    warm.private.push(await boot(ONE, 'private'));
    warm.shared.push(await boot(ONE, 'shared'));
    warm.recycled.push(await boot(ONE, 'shared', recycler));
  }

  const perNode = { shared: [] as number[], private: [] as number[] };
  for (let i = 0; i < 3; i++) {
    perNode.private.push((await boot(HUNDRED, 'private', undefined, true)) / 100);
    perNode.shared.push((await boot(HUNDRED, 'shared', undefined, true)) / 100);
  }
  const m = (xs: number[]) => median(xs);
  return {
    name: 'runtime: boot',
    results: [
      { name: 'first boot in process (imports Ebb packages)', medianNs: coldMs * 1e6, totalMs: coldTotal },
      { name: 'one node, runApp -> entry (warm), private memory (ArrayBuffer)', medianNs: m(warm.private) * 1e6, runs: warm.private.length },
      { name: 'one node, runApp -> entry (warm), shared memory (SharedArrayBuffer, default)', medianNs: m(warm.shared) * 1e6, runs: warm.shared.length },
      { name: 'one node, warm, shared memory from a MemoryRecycler', medianNs: m(warm.recycled) * 1e6, runs: warm.recycled.length },
      { name: '100 nodes, per node (warm), private memory', medianNs: m(perNode.private) * 1e6, runs: perNode.private.length },
      { name: '100 nodes, per node (warm), shared memory (default)', medianNs: m(perNode.shared) * 1e6, runs: perNode.shared.length },
    ],
    ratios: {
      'one node warm (default) / 5 ms target': m(warm.shared) / 5,
      'one node warm, shared / private memory': m(warm.shared) / m(warm.private),
      'one node warm, recycled / fresh shared memory': m(warm.recycled) / m(warm.shared),
      'per node in 100, shared / private memory': m(perNode.shared) / m(perNode.private),
      'per node in 100 / one node (default)': m(perNode.shared) / m(warm.shared),
    },
    notes: [
      'times exclude Node start-up and the TypeScript loader; 2 cores and 64 MiB per node (16 MiB for the 100)',
      `the recycler zero-fills a buffer before reuse (${recycler.reused} reused): 64 MiB of memset per boot, and every page resident`,
    ],
  };
}
