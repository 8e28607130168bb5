/**
 * The worker pool runs a seed exactly as this process would: the same digest, faults, fired
 * counts and verdict, traced or not, whichever worker gets it. And a pool's workers run with the
 * extra Node flags asked for (how a bench profiles them).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SeedRunner, WorkerPool, type SeedJob, type SeedResult } from '@ebbrt/runtime';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDS = [1, 2, 3, 4, 5, 6];
const comparable = (r: SeedResult) => ({ seed: r.seed, faults: r.faults, digest: r.digest, violation: r.violation, fired: r.fired, crashed: r.crashed });

describe('the seed pool against this process', () => {
  it('gives every seed of a range the same result as an in-process SeedRunner, traced and untraced, swarmed and all-faults', async () => {
    const jobs: SeedJob[] = SEEDS.flatMap((seed) => [
      { appDir: APP, seed, faults: { kind: 'all' }, trace: false },
      { appDir: APP, seed, faults: { kind: 'swarm' }, trace: true },
    ]);
    const pool = new WorkerPool(2);
    try {
      const pooled = await Promise.all(jobs.map((j) => pool.run(j)));
      const runner = new SeedRunner();
      const local: SeedResult[] = [];
      for (const j of jobs) local.push(await runner.run(j));
      expect(pooled.map(comparable)).toEqual(local.map(comparable));
      // Not one digest for all: the seeds and the tracing do change them.
      expect(new Set(local.map((r) => r.digest)).size).toBe(jobs.length);
    } finally {
      pool.close();
    }
  }, 600_000);
});

describe('WorkerPool options', () => {
  it('starts its workers with execArgv (--cpu-prof writes the main-thread profile of each worker as it exits) and names them in pids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-pool-prof-'));
    try {
      const pool = new WorkerPool(2, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
      const pids = pool.pids;
      expect(new Set(pids).size).toBe(2);
      const r = await pool.run({ appDir: APP, seed: 1, faults: { kind: 'all' }, trace: false });
      expect(r.violation).toBeUndefined();
      pool.close();
      // Profiles are named CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile, thread 0 the main one
      // (the loader's thread writes its own), and written as the worker exits: wait (bounded).
      const mains = (): string[] => readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      for (let i = 0; i < 600 && mains().length < 2; i++) await new Promise((res) => setTimeout(res, 100));
      expect(mains().map((f) => Number(f.split('.')[3])).sort()).toEqual([...pids].sort());
      expect(statSync(join(dir, mains()[0]!)).size).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
