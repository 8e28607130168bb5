import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlurmOrSkip, type SlurmCluster } from '../src/slurm-cluster.js';

// The helper against real daemons: a job runs, is cancelled, and stop() leaves nothing behind.
let cluster: SlurmCluster | undefined;
let reason = '';

describe('SlurmCluster (real munged, slurmctld, slurmd)', () => {
  beforeAll(async () => {
    ({ cluster, reason } = await startSlurmOrSkip());
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  it('runs a job to completion and reports it through scontrol', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const r = await cluster.exec('sbatch', ['--parsable', '-o', `${cluster.dir}/job-%j.out`, '--wrap', 'echo ran-$SLURM_JOB_ID']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim().split(';')[0]!;
    expect(id).toMatch(/^\d+$/);
    expect(await cluster.waitGone([id])).toEqual([]);
    const job = await cluster.job(id);
    expect(job.state).toBe('COMPLETED');
    expect(job.exitCode).toBe('0:0');
  }, 30_000);

  it('scancel ends a running job: CANCELLED, gone from squeue', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    const r = await cluster.exec('sbatch', ['--parsable', '-o', '/dev/null', '--wrap', 'sleep 300']);
    const id = r.stdout.trim().split(';')[0]!;
    const deadline = performance.now() + 15_000;
    while ((await cluster.job(id)).state !== 'RUNNING' && performance.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect((await cluster.job(id)).state).toBe('RUNNING');
    expect((await cluster.exec('scancel', [id])).code).toBe(0);
    expect(await cluster.waitGone([id])).toEqual([]);
    expect((await cluster.job(id)).state).toBe('CANCELLED');
  }, 30_000);

  it('stop() cancels jobs still running and removes its dir', async (ctx) => {
    if (cluster === undefined) return ctx.skip(reason);
    await cluster.exec('sbatch', ['--parsable', '-o', '/dev/null', '--wrap', 'sleep 300']);
    const dir = cluster.dir;
    await cluster.stop();
    expect(existsSync(dir)).toBe(false);
    const pids = await import('node:child_process').then(({ execFileSync }) => {
      try {
        return execFileSync('pgrep', ['-f', dir], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    });
    expect(pids).toBe('');
    cluster = undefined;
  }, 60_000);
});
