import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGuestMemoryKind, MemoryRecycler } from '@ebbrt/hw-x86sim';
import type { AppConfig } from '@ebbrt/interfaces';
import { ModuleCache } from '../resolve/module-cache.js';
import { formatRunStats } from '../cli/format-stats.js';
import { runApp } from '../run-app.js';
import { faultCatalogue, swarmFaults, withFaults } from './faults.js';
import { firstViolation, loadInvariants, type Invariants } from './invariants.js';

/** Which faults a seed runs with: all the config turns on, a swarm subset, or exactly these. */
export type FaultChoice = { kind: 'all' } | { kind: 'swarm' } | { kind: 'exact'; faults: readonly string[] };

export interface SeedJob {
  appDir: string;
  configFile?: string;
  invariantsFile?: string;
  seed: number;
  faults: FaultChoice;
  /** Keep the trace's JSON in the result (replay --trace). */
  keepTrace?: boolean;
  /**
   * Record the Chrome trace (default true). Without it the run is the same (tracing only
   * observes) but cheaper, and its digest covers the console lines alone: the search runs seeds
   * untraced and re-runs a failing one traced for its replay digest.
   */
  trace?: boolean;
  /** Keep the run's `--stats` report (replay --stats). */
  stats?: boolean;
  /** Core slices a seed may run before it counts as never going quiet (default DEFAULT_SEED_MAX_SLICES). */
  maxSlices?: number;
}

/**
 * A seed still busy after this many core slices never goes quiet: a livelock, or a hang with
 * timers still running (a client resending to a dead node forever). It fails, named, instead of
 * running without end. Slices, not virtual time: a quiet run may still hold a timer hours ahead
 * (a TCP keepalive), which a virtual-time limit would take for work. A counter seed runs ~4,400
 * slices; a livelocked one ~3,200 a virtual second, ~20,000 a wall second here.
 */
export const DEFAULT_SEED_MAX_SLICES = 5_000_000;

export interface SeedResult {
  seed: number;
  faults: string[];
  /** sha256 of the run's Chrome trace: the replay check. */
  digest: string;
  /** `invariant: how`, or undefined when every invariant held. */
  violation: string | undefined;
  ms: number;
  trace?: string;
  /** The worker died running this seed (unhandled rejection, OOM, exit): its cause. No digest then. */
  crashed?: string;
  /** The faults that fired in the run, by kind (`sim.faults.counts()`); absent when the worker crashed. */
  fired?: Record<string, number>;
  /** The run's `--stats` report, when the job asked for it. */
  stats?: string;
}

/**
 * The config `ebbrt test` runs when none is named: the app's test config if it has one (an app
 * whose own config serves real clients in real time keeps its checker's setup apart), else the
 * app's ordinary config.
 */
export const TEST_CONFIG_FILES = ['ebbrt.test.config.ts', 'ebbrt.test.config.mts', 'ebbrt.test.config.mjs', 'ebbrt.test.config.js', 'ebbrt.test.config.json'] as const;

export function testConfigOf(appDir: string): string | undefined {
  return TEST_CONFIG_FILES.find((f) => existsSync(join(appDir, f)));
}

/** Runs one seed of an app and checks its invariants. One process runs seeds one after another. */
export class SeedRunner {
  private invariants: Invariants | undefined;
  /** The app's modules, imported once for all the seeds this runner runs. */
  private readonly modules = new ModuleCache();
  /**
   * Machine memories passed from each seed's run to the next (recycled once its invariants are
   * checked), only where guest memory is a private ArrayBuffer: a fresh 32 MiB one per machine per
   * seed made V8 collect ~8 times a seed. Shared guest memory (Node's default) is not V8's
   * external memory, and a fresh buffer is zero pages the kernel maps only when touched (the
   * counter touches ~300 of its 4 machines' 32,768 pages), while a recycled one is zero-filled
   * whole: 128 MiB of memset a seed, cache and memory bandwidth the second worker needs. Measured
   * in one process at load ~37: 13.5 seeds/s fresh against 4.9 recycled (medians of 3 rounds of 15 seeds, same digests).
   */
  private readonly memory = defaultGuestMemoryKind() === 'shared' ? undefined : new MemoryRecycler();

  async run(job: SeedJob): Promise<SeedResult> {
    const started = performance.now();
    this.invariants ??= await loadInvariants(job.appDir, job.invariantsFile);
    let faults: string[] = [];
    const pick = (config: AppConfig): AppConfig => {
      const catalogue = faultCatalogue(config);
      faults = job.faults.kind === 'all' ? catalogue : job.faults.kind === 'swarm' ? swarmFaults(job.seed, catalogue) : [...job.faults.faults];
      return withFaults(config, faults);
    };
    const lines: string[] = [];
    const maxSlices = job.maxSlices ?? DEFAULT_SEED_MAX_SLICES;
    const configFile = job.configFile ?? testConfigOf(job.appDir);
    const run = await runApp(job.appDir, {
      seed: job.seed,
      clock: 'virtual',
      maxSlices,
      trace: job.trace ?? true,
      output: (line) => lines.push(line),
      configOverride: pick,
      modules: this.modules,
      // Seeds run side by side in one app directory: each gets its own copy-on-write view of it.
      files: 'memory',
      ...(this.memory !== undefined ? { memory: this.memory } : {}),
      ...(configFile !== undefined ? { configFile } : {}),
    });
    const trace = job.trace === false ? '' : run.simulation.trace.toJSON();
    const digest = createHash('sha256').update(trace).update(lines.join('\n')).digest('hex');
    let violation: string | undefined;
    if (run.failures.length > 0) {
      const first = run.failures[0]!;
      violation = `run has no failed events: node ${first.node} core ${first.core}: ${first.error instanceof Error ? first.error.message : String(first.error)}`;
    } else if (run.result.reason === 'max-slices') {
      violation = `the run goes quiet: it was still busy after ${maxSlices} core slices, its limit (a livelock, or a hang with timers still running; --max-slices sets the limit)`;
    } else violation = firstViolation(this.invariants, { seed: job.seed, faults, lines, run });
    const fired = run.simulation.faults.counts();
    const stats = job.stats === true ? formatRunStats(run) : undefined;
    run.simulation.recycleMemory();
    return { seed: job.seed, faults, digest, violation, ms: performance.now() - started, fired, ...(job.keepTrace ? { trace } : {}), ...(stats !== undefined ? { stats } : {}) };
  }
}
