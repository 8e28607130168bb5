/**
 * Back-end nodes as real Slurm jobs (a one-host cluster from @ebbrt/testkit/slurm-cluster): the
 * distributed counter is exact over 4 job nodes; a job cancelled mid-run fails the sends to it by
 * name while the others stay exact; a node that never reports fails allocation and its job is
 * cancelled; nothing is left in squeue after a run. The dashboard sees job nodes as it sees
 * process nodes: their agents answer introspect (cores, Ebbs, trace, clock) on the control port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSnapshots, runApp, type StartedRun } from '@ebbrt/runtime';
import type { NodeIntrospection, NodeTraceBatch } from '@ebbrt/interfaces';
import { startSlurmOrSkip, type SlurmCluster } from '@ebbrt/testkit/slurm-cluster';
import { exactCounterFrontend } from '@ebbrt/testkit/counter-app';
import { COUNTER_NODE, PACKAGE_DIR, slurmPlatform, tempApp } from './app.js';

let cluster: SlurmCluster | undefined;
let reason = '';
beforeAll(async () => {
  ({ cluster, reason } = await startSlurmOrSkip({ cpus: 2 }));
}, 60_000);
afterAll(() => cluster?.stop(), 60_000);

const COUNTER_FRONTEND = exactCounterFrontend();

function config(c: SlurmCluster, nodes: number, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    entry: { frontend: './frontend.mjs', backend: './node.mjs' },
    clock: 'realtime',
    seed: 3,
    backend: { nodes, platform: slurmPlatform(c, options), machine: { cores: 2, memory: '32MiB' } },
    network: { link: { latencyNs: 20_000, loss: 0.02, duplicate: 0.01, reorder: 0.02 } },
  };
}

describe('@ebbrt/platform-slurm on a real Slurm cluster', () => {
  it('the distributed counter is exact with front-end + 4 nodes as Slurm jobs; no job is left after the run', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const app = tempApp(config(cluster, 4), { 'frontend.mjs': COUNTER_FRONTEND, 'node.mjs': COUNTER_NODE });
    const lines: string[] = [];
    try {
      const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [PACKAGE_DIR], signal: AbortSignal.timeout(120_000) });
      expect(run.failures, lines.join('\n')).toEqual([]);
      const totals = lines.map((l) => /node (\d+) total (\d+) expected (\d+)/.exec(l)).filter((m) => m !== null);
      expect(totals, lines.join('\n')).toHaveLength(4);
      for (const m of totals) expect(Number(m[2])).toBe(Number(m[3]));
      expect(totals.reduce((s, m) => s + Number(m[2]), 0)).toBe((400 * 401) / 2);
      // Each node really was a Slurm job of its own (its process saw SLURM_JOB_ID).
      const jobs = new Set(lines.map((l) => / job (\d+) pid \d+$/.exec(l)?.[1]).filter((j) => j !== undefined));
      expect(jobs.size, lines.join('\n')).toBe(4);
      expect(await cluster.waitGone()).toEqual([]);
      for (const job of jobs) expect((await cluster.job(job)).state).toBe('CANCELLED');
    } finally {
      app.remove();
    }
  }, 180_000);

  it('the dormant pool is pre-started jobs: one is RUNNING before any allocation and serves the first one', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const c = cluster;
    const frontend = `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main(ctx) {
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  await timer.sleep(6000000);
  ctx.log('pool warm');
  await new Promise((r) => setTimeout(r, 1500));
  const alloc = new EbbRef(SystemEbbIds.NodeAllocator).deref();
  const t0 = performance.now();
  const id = await alloc.allocateNode('./node.mjs', { cores: 2, memoryBytes: 32 * 1024 * 1024 }).networkId;
  ctx.log('allocated node ' + id + ' in ' + (performance.now() - t0).toFixed(1) + ' ms');
}
`;
    const app = tempApp(
      {
        entry: { frontend: './frontend.mjs' },
        clock: 'realtime',
        frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: { poolSize: 1 } } } },
        backend: { nodes: 0, platform: slurmPlatform(c), machine: { cores: 2, memory: '32MiB' } },
        network: {},
      },
      { 'frontend.mjs': frontend, 'node.mjs': COUNTER_NODE },
    );
    const lines: string[] = [];
    let before: Promise<string> = Promise.resolve('');
    try {
      const run = await runApp(app.dir, {
        resolveFrom: [PACKAGE_DIR],
        signal: AbortSignal.timeout(60_000),
        output: (l) => {
          lines.push(l);
          if (l.endsWith('pool warm')) before = c.exec('squeue', ['-h', '-o', '%j %T']).then((r) => r.stdout.trim());
        },
      });
      const all = lines.join('\n');
      expect(run.failures, all).toEqual([]);
      // Before any allocation, the pool's node is a running job.
      expect(await before).toBe('ebbrt-node-1 RUNNING');
      // The allocation got that node (id 1), not a fresh boot.
      expect(all).toMatch(/allocated node 1 in [\d.]+ ms/);
      expect(await c.waitGone()).toEqual([]);
    } finally {
      app.remove();
    }
  }, 90_000);

  it("the dashboard's introspection reaches job nodes over the control port: cores, Ebbs, clock and trace", async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    // The front-end (in this process) pings both nodes until the test has what it asks for.
    const DONE = '__ebbrtSlurmIntrospected';
    const frontend = exactCounterFrontend({
      adds: 20,
      before: `  while (globalThis.${DONE} !== true && !ctx.signal.aborted) {
    for (const id of ids) await add(id, 0);
    await timer.sleep(20_000);
  }
`,
    });
    const app = tempApp(config(cluster, 2), { 'frontend.mjs': frontend, 'node.mjs': COUNTER_NODE });
    const lines: string[] = [];
    const answers: NodeIntrospection[] = [];
    const traces = new Map<number, NodeTraceBatch['events'][number][]>();
    let snaps: RunSnapshots | undefined;
    let shown: ReturnType<RunSnapshots['snapshot']> | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    const g = globalThis as Record<string, unknown>;
    try {
      const run = await runApp(app.dir, {
        output: (l) => lines.push(l),
        resolveFrom: [PACKAGE_DIR],
        signal: AbortSignal.timeout(120_000),
        onStarted: (r: StartedRun) => {
          // What `ebbrt run --ui` does: RunSnapshots asks every node, with its trace cursor.
          snaps = new RunSnapshots(r, 'realtime', { remoteTrace: (id, b) => traces.set(id, [...(traces.get(id) ?? []), ...b.events]) });
          poll = setInterval(() => {
            shown = snaps!.snapshot();
            for (const n of r.platform.liveNodes) n.introspect?.().then((d) => void answers.push(d), () => undefined);
            const jobs = shown.nodes.filter((n) => n.role === 'backend');
            const ready = jobs.length === 2 && jobs.every((n) => n.cores.every((c) => (c.slices ?? 0) > 0)) && [1, 2].every((id) => (traces.get(id) ?? []).some((e) => e.name === 'slice'));
            if (ready) g[DONE] = true;
          }, 100);
        },
      });
      expect(run.failures, lines.join('\n')).toEqual([]);
      expect(g[DONE], 'the dashboard saw both job nodes').toBe(true);
      for (const id of [1, 2]) {
        const card = shown!.nodes.find((n) => n.id === id)!;
        expect(card.cores.map((c) => c.index)).toEqual([0, 1]);
        expect(card.cores.every((c) => c.eventsPerSec !== undefined && c.idlePct !== undefined)).toBe(true);
        expect(Object.keys(card.ebbs ?? {}).some((k) => k.startsWith('Messenger #'))).toBe(true);
        const mine = answers.filter((d) => d.networkId === id);
        expect(mine.every((d) => d.cores?.length === 2 && typeof d.nowNs === 'number')).toBe(true);
        expect(mine.at(-1)!.memory!.totalBytes).toBeGreaterThan(0);
        const events = traces.get(id)!;
        expect(events.every((e) => e.core === 0 || e.core === 1)).toBe(true);
      }
    } finally {
      clearInterval(poll);
      delete g[DONE];
      app.remove();
    }
  }, 180_000);
});
