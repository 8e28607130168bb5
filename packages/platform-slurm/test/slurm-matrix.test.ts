/**
 * The elastic matrix (@ebbrt/matrix) on Slurm nodes: its tile nodes are allocated through the
 * NodeAllocator as Slurm jobs, a multiply moves tiles node to node over the Messenger, and the
 * product is exact against a reference computed here; the jobs are gone afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runApp } from '@ebbrt/runtime';
import { startSlurmOrSkip, type SlurmCluster } from '@ebbrt/testkit/slurm-cluster';
import { PACKAGE_DIR, slurmPlatform, tempApp } from './app.js';

let cluster: SlurmCluster | undefined;
let reason = '';
beforeAll(async () => {
  ({ cluster, reason } = await startSlurmOrSkip({ cpus: 2 }));
}, 60_000);
afterAll(() => cluster?.stop(), 60_000);

const TILE = `import { installTileNode } from '@ebbrt/matrix/node-image';
export function main(ctx) {
  installTileNode(ctx.node);
  ctx.log('tile node in slurm job ' + process.env.SLURM_JOB_ID);
}
`;
const N = 96;
const FRONTEND = `import { MatrixSpace, packed, randomAt } from '@ebbrt/matrix';
export async function main(ctx) {
  const space = new MatrixSpace({ tileSize: 48, placement: packed(2), post: ctx.post, image: './tile.mjs' });
  const a = await space.random(${N}, ${N}, 1);
  const b = await space.random(${N}, ${N}, 2);
  const c = await a.multiply(b);
  let worst = 0, probes = 0;
  for (let i = 0; i < ${N}; i += 7) for (let j = 0; j < ${N}; j += 5) {
    let want = 0;
    for (let k = 0; k < ${N}; k++) want += randomAt(1, i, k) * randomAt(2, k, j);
    const got = await c.get(i, j);
    worst = Math.max(worst, Math.abs(got - want) / Math.max(1, Math.abs(want)));
    probes++;
  }
  ctx.log('matrix nodes ' + space.nodes().length + ' probes ' + probes + ' worst ' + worst);
  await space.close();
}
`;

it('a tiled multiply runs on Slurm job nodes and is exact', async (ctx) => {
  if (cluster === undefined) return ctx.skip(reason);
  const app = tempApp(
    {
      entry: { frontend: './frontend.mjs' },
      clock: 'realtime',
      backend: { nodes: 0, machine: { cores: 1, memory: '16MiB' }, platform: slurmPlatform(cluster) },
      network: { link: { latencyNs: 20_000 } },
    },
    { 'frontend.mjs': FRONTEND, 'tile.mjs': TILE },
  );
  const lines: string[] = [];
  try {
    const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [PACKAGE_DIR], signal: AbortSignal.timeout(180_000) });
    const all = lines.join('\n');
    expect(run.failures, all).toEqual([]);
    const m = /matrix nodes (\d+) probes (\d+) worst (\S+)/.exec(all);
    expect(m, all).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
    expect(Number(m![2])).toBeGreaterThan(100);
    expect(Number(m![3])).toBeLessThan(1e-12);
    const jobs = new Set(lines.map((l) => /tile node in slurm job (\d+)/.exec(l)?.[1]).filter((j) => j !== undefined));
    expect(jobs.size, all).toBeGreaterThanOrEqual(2);
    expect(await cluster.waitGone()).toEqual([]);
  } finally {
    app.remove();
  }
}, 240_000);
