/**
 * Faults on real Slurm jobs: `scancel` of one node's job mid-run (sends to it fail naming it, the
 * others' totals stay exact, the death names the job and Slurm's state); a node whose entry does
 * not exist, and one that never dials back, fail allocation within the deadline naming the job,
 * which is cancelled; squeue lists nothing after each run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApp } from '@ebbrt/runtime';
import { startSlurmOrSkip, type SlurmCluster } from '@ebbrt/testkit/slurm-cluster';
import { killMidRunFrontend } from '@ebbrt/testkit/counter-app';
import { COUNTER_NODE, PACKAGE_DIR, slurmPlatform, tempApp } from './app.js';

let cluster: SlurmCluster | undefined;
let reason = '';
beforeAll(async () => {
  ({ cluster, reason } = await startSlurmOrSkip({ cpus: 2 }));
}, 60_000);
afterAll(() => cluster?.stop(), 60_000);

// A stream of sends to every node; node 2's job is cancelled mid-stream.
// Slurm's word on the job comes from polling: the stream waits 3 s for the death to reach the allocator.
const STREAM_FRONTEND = killMidRunFrontend({ killed: 2, pauseUs: 5000, settleUs: 3_000_000 });

function config(c: SlurmCluster, nodes: number, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    entry: { frontend: './frontend.mjs', backend: './node.mjs' },
    clock: 'realtime',
    backend: { nodes, platform: slurmPlatform(c, options), machine: { cores: 2, memory: '32MiB' } },
    network: { link: { latencyNs: 20_000 } },
  };
}

describe('@ebbrt/platform-slurm faults', () => {
  it('scancel of one job mid-run: sends to it fail naming it, the others stay exact, no job is left', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const c = cluster;
    const app = tempApp(config(c, 3), { 'frontend.mjs': STREAM_FRONTEND, 'node.mjs': COUNTER_NODE });
    const lines: string[] = [];
    let job2 = '';
    try {
      let cancel: () => void = () => undefined;
      const run = await runApp(app.dir, {
        resolveFrom: [PACKAGE_DIR],
        signal: AbortSignal.timeout(120_000),
        onStarted: () => {
          // Found the way an operator would: by the job name the platform gives node 2.
          cancel = () =>
            void c.exec('squeue', ['-h', '-n', 'ebbrt-node-2', '-o', '%i']).then((r) => {
              job2 = r.stdout.trim();
              return c.exec('scancel', [job2]);
            });
        },
        output: (l) => {
          lines.push(l);
          if (l.endsWith('streaming')) setTimeout(() => cancel(), 100);
        },
      });
      const all = lines.join('\n');
      const errors = /errors (\d+) first (.*)$/.exec(lines.find((l) => l.includes('errors ')) ?? '');
      expect(errors, all).not.toBeNull();
      expect(Number(errors![1]), all).toBeGreaterThan(0);
      expect(errors![2]).toMatch(/^2: node 2: /);
      for (const id of [1, 3]) {
        const m = new RegExp(`node ${id} total (\\d+) expected (\\d+)`).exec(all)!;
        expect(Number(m[1])).toBe(Number(m[2]));
        expect(Number(m[1])).toBe((300 * 301) / 2);
      }
      // The death reached the allocator naming the job and what Slurm says of it.
      expect(all, all).toMatch(new RegExp(`node 2 died: .*slurm job ${job2}\\).*CANCELLED`));
      expect(run.failures).toEqual([]);
      expect(await c.waitGone()).toEqual([]);
      expect((await c.job(job2)).state).toBe('CANCELLED');
    } finally {
      app.remove();
    }
  }, 180_000);

  it('a node entry that does not exist fails allocation naming the job and Slurm state; nothing is left', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const app = tempApp(config(cluster, 1, { nodeEntry: '/nonexistent/ebbrt/node-process-entry.js', bootTimeoutMs: 20_000 }), {
      'frontend.mjs': 'export function main() {}\n',
      'node.mjs': COUNTER_NODE,
    });
    try {
      const outcome = await runApp(app.dir, { resolveFrom: [PACKAGE_DIR], output: () => undefined, signal: AbortSignal.timeout(60_000) }).then(
        (run) => run.failures.map((f) => String((f.error as Error).message ?? f.error)).join('\n') || 'no failure',
        (e: Error) => e.message,
      );
      // Slurm's own account of the job, not the 20 s boot deadline's message: the failure was seen when the job ended.
      expect(outcome).toMatch(/node 1 \(slurm job \d+\) ended: FAILED \(Reason=NonZeroExitCode, ExitCode=1:0\)/);
      expect(await cluster.waitGone()).toEqual([]);
    } finally {
      app.remove();
    }
  }, 90_000);

  it('a node that never dials back fails allocation at the deadline and its job is cancelled', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    // A real program at the entry path that never speaks the agent protocol.
    const app = tempApp({}, { 'frontend.mjs': 'export function main() {}\n', 'node.mjs': COUNTER_NODE, 'hang.mjs': 'setInterval(() => {}, 1000);\n' });
    writeFileSync(join(app.dir, 'ebbrt.config.json'), JSON.stringify(config(cluster, 1, { bootTimeoutMs: 4_000, nodeEntry: join(app.dir, 'hang.mjs') })));
    try {
      const outcome = await runApp(app.dir, { resolveFrom: [PACKAGE_DIR], output: () => undefined, signal: AbortSignal.timeout(60_000) }).then(
        (run) => run.failures.map((f) => String((f.error as Error).message ?? f.error)).join('\n') || 'no failure',
        (e: Error) => e.message,
      );
      const m = /node 1 \(slurm job (\d+)\) did not dial the front-end within 4000 ms \(job RUNNING[^)]*\)\); the job is cancelled/.exec(outcome);
      expect(m, outcome).not.toBeNull();
      expect(await cluster.waitGone()).toEqual([]);
      expect((await cluster.job(m![1]!)).state).toBe('CANCELLED');
    } finally {
      app.remove();
    }
  }, 90_000);
});
