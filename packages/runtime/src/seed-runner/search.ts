/**
 * The seed search: runs seeds over a pool of workers until the seeds or the time budget run out,
 * then shrinks each failure's fault set (turning faults off one at a time, keeping any removal
 * after which the seed still fails) to the smallest set that still fails.
 */
import type { FaultChoice, SeedJob, SeedResult } from './run-seed.js';

export interface Executor {
  run(job: SeedJob): Promise<SeedResult>;
  readonly size: number;
  /** Jobs it takes at once (queued ones included); default `size`. */
  readonly concurrency?: number;
}

export interface SearchOptions {
  appDir: string;
  configFile?: string;
  invariantsFile?: string;
  /** Seeds in order; with a budget, seeds continue past the end of this list. */
  first: number;
  last: number | undefined;
  budgetMs: number | undefined;
  swarm: boolean;
  /** Stop after this many failures (default: no limit). */
  maxFailures?: number;
  shrink: boolean;
  /** Each seed's slice limit (SeedJob.maxSlices). */
  maxSlices?: number;
  onProgress?(p: Progress): void;
}

export interface Progress {
  done: number;
  total: number | undefined;
  failures: number;
  elapsedMs: number;
}

export interface Failure {
  result: SeedResult;
  /** After shrinking: the smallest fault set found that still fails, and its violation. */
  shrunk: { faults: string[]; violation: string; digest: string } | undefined;
}

export interface SearchReport {
  seedsRun: number;
  elapsedMs: number;
  failures: Failure[];
  /** Over the seeds run (not the shrinking runs): each fault kind's total count and the seeds it fired in. */
  fired: Record<string, { count: number; seeds: number }>;
}

function job(o: SearchOptions, seed: number, faults: FaultChoice, trace = true): SeedJob {
  return {
    appDir: o.appDir,
    seed,
    faults,
    trace,
    ...(o.configFile !== undefined ? { configFile: o.configFile } : {}),
    ...(o.maxSlices !== undefined ? { maxSlices: o.maxSlices } : {}),
    ...(o.invariantsFile !== undefined ? { invariantsFile: o.invariantsFile } : {}),
  };
}

export async function search(pool: Executor, o: SearchOptions): Promise<SearchReport> {
  const started = performance.now();
  const failures: Failure[] = [];
  const fired: SearchReport['fired'] = {};
  let next = o.first;
  let done = 0;
  const total = o.last === undefined ? undefined : o.last - o.first + 1;
  const more = (): boolean =>
    (o.last === undefined || next <= o.last) &&
    (o.budgetMs === undefined || performance.now() - started < o.budgetMs) &&
    (o.maxFailures === undefined || failures.length < o.maxFailures) &&
    next <= 0xffffffff;
  const lane = async (): Promise<void> => {
    while (more()) {
      const seed = next++;
      // Seeds run untraced (tracing only observes, and costs); a failing one runs again traced,
      // with the faults it had, so its digest is the one its replay command prints.
      let result = await pool.run(job(o, seed, o.swarm ? { kind: 'swarm' } : { kind: 'all' }, false));
      if (result.violation !== undefined && result.crashed === undefined) {
        const traced = await pool.run(job(o, seed, { kind: 'exact', faults: result.faults }));
        result = traced.violation === result.violation || traced.crashed !== undefined ? traced : { ...traced, violation: `the run is not deterministic: untraced it failed "${result.violation}", traced ${traced.violation === undefined ? 'it passed' : `"${traced.violation}"`}` };
      }
      done++;
      for (const [kind, count] of Object.entries(result.fired ?? {})) {
        const f = (fired[kind] ??= { count: 0, seeds: 0 });
        f.count += count;
        f.seeds++;
      }
      if (result.violation !== undefined) failures.push({ result, shrunk: undefined });
      o.onProgress?.({ done, total, failures: failures.length, elapsedMs: performance.now() - started });
    }
  };
  await Promise.all(Array.from({ length: pool.concurrency ?? pool.size }, lane));
  const elapsedMs = performance.now() - started;
  failures.sort((a, b) => a.result.seed - b.result.seed);
  // Lanes already running when the limit was reached may fail too: the report keeps the lowest
  // seeds, as many as asked (their runs still count in seedsRun), and shrinks only those.
  if (o.maxFailures !== undefined) failures.splice(o.maxFailures);
  // A crash's faults are unknown to the parent (a swarm subset drawn in the worker): not shrunk.
  if (o.shrink) for (const f of failures) if (f.result.crashed === undefined) f.shrunk = await shrink(pool, o, f.result);
  // Sorted by kind, so the report does not depend on which lane finished first.
  const sorted = Object.fromEntries(Object.entries(fired).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { seedsRun: done, elapsedMs, failures, fired: sorted };
}

/** Turns faults off one at a time; a removal is kept when the same seed still fails without it. */
export async function shrink(pool: Executor, o: SearchOptions, failed: SeedResult): Promise<Failure['shrunk']> {
  let faults = [...failed.faults];
  let violation = failed.violation!;
  let digest = failed.digest;
  for (let i = 0; i < faults.length; ) {
    const fewer = faults.filter((_, j) => j !== i);
    const r = await pool.run(job(o, failed.seed, { kind: 'exact', faults: fewer }));
    if (r.violation !== undefined) {
      faults = fewer;
      violation = r.violation;
      digest = r.digest;
    } else i++;
  }
  return { faults, violation, digest };
}
