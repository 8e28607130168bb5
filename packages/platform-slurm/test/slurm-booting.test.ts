/**
 * A node still booting counts as live, so a run that ends while the dormant pool refills (what
 * run-app does: destroy every live node) cancels its job instead of leaving it RUNNING, owned by
 * nobody (the process platform's 2026-12-07 leak, same pattern). Each phase of a boot is pinned
 * by a gate, not a timing: before sbatch runs, while sbatch runs, and with the job RUNNING but
 * not yet dialled in. Each checks Slurm's own word: the job is CANCELLED and squeue lists it no more.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformHost } from '@ebbrt/interfaces';
import { startSlurmOrSkip, type SlurmCluster } from '@ebbrt/testkit/slurm-cluster';
import { SlurmPlatform, slurmPlatformOptionsSchema } from '../src/index.js';
import { tempApp } from './app.js';

let cluster: SlurmCluster | undefined;
let reason = '';
beforeAll(async () => {
  ({ cluster, reason } = await startSlurmOrSkip({ cpus: 2 }));
}, 60_000);
afterAll(() => cluster?.stop(), 60_000);

const SHAPE = { cores: 1, memoryBytes: 16 << 20 };

/** A host whose agent is a real program that never dials back: a boot that stays in flight. */
function host(dir: string): PlatformHost {
  return {
    app: { dir, configFile: undefined, resolveFrom: [], seed: 1 },
    output: () => undefined,
    reportFailure: () => undefined,
    requestExit: () => undefined,
    local: undefined,
    frontend: () => ({ messenger: { host: '127.0.0.1', port: 9 }, setPeer: () => undefined, reported: () => new Promise(() => undefined), unlink: () => undefined }),
    agent: { command: process.execPath, args: [join(dir, 'hang.mjs')] },
  };
}

function platform(c: SlurmCluster, dir: string, commands: Partial<SlurmCluster['commands']> = {}): SlurmPlatform {
  // A boot deadline far past the test's: a boot that fails here failed because its node was freed.
  const options = slurmPlatformOptionsSchema.parse({ frontendAddress: '127.0.0.1:0', slurmConf: c.conf, commands: { ...c.commands, ...commands }, partition: c.partition, pollMs: 250, bootTimeoutMs: 600_000 });
  return new SlurmPlatform(host(dir), options);
}

/** Polls `done` every 50 ms, at most `ms`; the test's own assertions then say what went wrong. */
async function until(done: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await done()) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function expectCancelled(c: SlurmCluster, jobId: string): Promise<void> {
  expect(jobId).toMatch(/^\d+$/);
  expect(await c.waitGone([jobId])).toEqual([]);
  expect((await c.job(jobId)).state).toBe('CANCELLED');
}

describe('@ebbrt/platform-slurm: a run ending mid-boot leaves no job', () => {
  it('a node freed while sbatch runs is live, its job is cancelled once sbatch answers, and its boot fails', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const app = tempApp({}, { 'hang.mjs': 'setInterval(() => {}, 1000);\n' });
    try {
      // sbatch, held at a gate: it has started (the marker) and answers only once the gate opens.
      const started = join(app.dir, 'sbatch-started');
      const gate = join(app.dir, 'sbatch-gate');
      const sbatch = join(app.dir, 'sbatch.sh');
      writeFileSync(sbatch, `#!/bin/sh\n: > '${started}'\ni=0\nwhile [ ! -e '${gate}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nexec '${cluster.commands.sbatch}' "$@"\n`);
      chmodSync(sbatch, 0o755);
      const p = platform(cluster, app.dir, { sbatch });
      const boot = p.boot(SHAPE);
      const failed = boot.then(() => 'booted', (e: Error) => e.message);
      await until(() => existsSync(started));
      expect(existsSync(started)).toBe(true);
      const [node] = p.liveNodes;
      expect(node, 'a node whose sbatch is running must be live').toBeDefined();
      expect(node!.jobId).toBe('');
      // What run-app does at a run's end; sbatch answers meanwhile.
      const ended = Promise.all(p.liveNodes.map((n) => n.destroy()));
      writeFileSync(gate, '');
      await ended;
      await expectCancelled(cluster, node!.jobId);
      expect(await failed).toMatch(new RegExp(`node 1 \\(slurm job ${node!.jobId}\\) was freed while sbatch ran; the job is cancelled`));
      expect(p.liveNodes).toEqual([]);
    } finally {
      app.remove();
    }
  }, 90_000);

  it('a node freed with its job RUNNING, not yet dialled in, is live; its job is cancelled and its boot fails', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const c = cluster;
    const app = tempApp({}, { 'hang.mjs': 'setInterval(() => {}, 1000);\n' });
    try {
      const p = platform(c, app.dir);
      const boot = p.boot(SHAPE);
      const failed = boot.then(() => 'booted', (e: Error) => e.message);
      const state = async (): Promise<string> => {
        const id = p.liveNodes[0]?.jobId ?? '';
        return id === '' ? '' : (await c.exec('squeue', ['-h', '-j', id, '-o', '%T'])).stdout.trim();
      };
      await until(async () => (await state()) === 'RUNNING');
      expect(await state(), 'the booting node is live and its job runs').toBe('RUNNING');
      const [node] = p.liveNodes;
      await Promise.all(p.liveNodes.map((n) => n.destroy()));
      await expectCancelled(c, node!.jobId);
      expect(await failed).toMatch(new RegExp(`node 1 \\(slurm job ${node!.jobId}\\) was freed before it could dial the front-end; the job is cancelled`));
      expect(p.liveNodes).toEqual([]);
    } finally {
      app.remove();
    }
  }, 90_000);

  it('a node freed before sbatch runs submits no job at all', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const app = tempApp({}, { 'hang.mjs': 'setInterval(() => {}, 1000);\n' });
    try {
      const p = platform(cluster, app.dir);
      const before = await cluster.queuedJobs();
      const boot = p.boot(SHAPE);
      expect(p.liveNodes).toHaveLength(1);
      await Promise.all(p.liveNodes.map((n) => n.destroy()));
      await expect(boot).rejects.toThrow('node 1 was freed before its job was submitted');
      expect(p.liveNodes).toEqual([]);
      // sbatch never ran: boot settled before it would have, so nothing can still be on its way.
      expect(await cluster.queuedJobs()).toEqual(before);
    } finally {
      app.remove();
    }
  }, 60_000);
});
