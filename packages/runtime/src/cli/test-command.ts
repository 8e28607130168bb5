/**
 * `ebbrt test`: deterministic simulation testing of an app. Runs its invariants (see
 * seed-runner/invariants.ts) over many seeds in worker processes, swarming the config's faults,
 * shrinks each failure's faults and prints the one command that replays it; with `--seed N` it is
 * that replay: one seed, in this process, printing the trace digest (and writing the trace).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadInvariants } from '../seed-runner/invariants.js';
import { WorkerPool } from '../seed-runner/pool.js';
import { SeedRunner, type FaultChoice } from '../seed-runner/run-seed.js';
import { search, type Progress, type SearchReport } from '../seed-runner/search.js';

export const TEST_USAGE = `usage: ebbrt test [app-dir] [--seeds A..B | --budget 60s] [--workers N] [--swarm] [options]
       ebbrt test [app-dir] --seed N [--faults a,b | --faults none] [--trace out.json] [--stats]   (replay one seed)

  --seeds A..B       the seeds to run (default 1..100); with --budget, where to start
  --budget T         run seeds until T has passed (e.g. 90s, 5m, 1500ms)
  --workers N        worker processes (default 2)
  --own-sessions     start each worker in a session of its own, so Linux's autogroup scheduler gives
                     each its own share of a machine busy with other sessions (see the README)
  --swarm            each seed switches on a random subset of the config's faults (drawn from the seed)
  --max-failures N   stop after N failing seeds
  --no-shrink        do not shrink failures' fault sets
  --max-slices N     a seed still busy after N core slices fails (default 5000000): a livelock
  --seed N           replay one seed; --faults names the faults that were on (default: all the config's);
                     --stats prints the replay's run report (events, NICs, every fault fired by kind)
  --config FILE      a config other than ebbrt.config.*, relative to app-dir
  --invariants FILE  an invariants module other than ebbrt.invariants.*`;

export interface TestCommand {
  appDir: string;
  config: string | undefined;
  invariants: string | undefined;
  first: number;
  last: number | undefined;
  budgetMs: number | undefined;
  workers: number;
  ownSessions: boolean;
  swarm: boolean;
  shrink: boolean;
  maxFailures: number | undefined;
  /** --max-slices. */
  maxSlices: number | undefined;
  replay: { seed: number; faults: FaultChoice; trace: string | undefined; stats?: boolean } | undefined;
}

function seedNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 0xffffffff) throw new Error(`${flag} must be a seed in [0, 2^32), got "${text}"`);
  return n;
}

function duration(text: string, flag = '--budget'): number {
  if (/^-/.test(text)) throw new Error(`${flag} must be a positive duration, got "${text}" (negative)`);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`${flag} must be a duration such as 90s, 5m or 1500ms, got "${text}"`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000);
  if (ms <= 0) throw new Error(`${flag} must be a positive duration, got "${text}" (no time to run a seed)`);
  return ms;
}

export function parseTest(argv: readonly string[]): TestCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      budget: { type: 'string' },
      workers: { type: 'string', default: '2' },
      'own-sessions': { type: 'boolean', default: false },
      swarm: { type: 'boolean', default: false },
      faults: { type: 'string' },
      'max-failures': { type: 'string' },
      'no-shrink': { type: 'boolean', default: false },
      'max-slices': { type: 'string' },
      trace: { type: 'string' },
      stats: { type: 'boolean', default: false },
      config: { type: 'string' },
      invariants: { type: 'string' },
    },
  });
  const [appDir = '.', ...extra] = positionals;
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"\n${TEST_USAGE}`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers must be an integer in 1..64, got "${values.workers}"`);
  let first = 1;
  let last: number | undefined = 100;
  if (values.seeds !== undefined) {
    const m = /^(\d+)\.\.(\d+)$/.exec(values.seeds);
    if (m === null) throw new Error(`--seeds must be a range A..B such as 1..1000, got "${values.seeds}"`);
    first = seedNumber('--seeds', m[1]!);
    last = seedNumber('--seeds', m[2]!);
    if (last < first) throw new Error(`--seeds ${values.seeds}: the range is empty`);
  }
  const budgetMs = values.budget === undefined ? undefined : duration(values.budget);
  let maxSlices: number | undefined;
  if (values['max-slices'] !== undefined) {
    maxSlices = Number(values['max-slices']);
    if (!/^\d+$/.test(values['max-slices']) || maxSlices < 1) throw new Error(`--max-slices must be a positive integer, got "${values['max-slices']}"`);
  }
  if (budgetMs !== undefined && values.seeds === undefined) last = undefined;
  let maxFailures: number | undefined;
  if (values['max-failures'] !== undefined) {
    maxFailures = Number(values['max-failures']);
    if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new Error(`--max-failures must be a positive integer, got "${values['max-failures']}"`);
  }
  let replay: TestCommand['replay'];
  if (values.seed !== undefined) {
    const f = values.faults;
    const faults: FaultChoice = f === undefined ? { kind: 'all' } : { kind: 'exact', faults: f === 'none' || f === '' ? [] : f.split(',') };
    replay = { seed: seedNumber('--seed', values.seed), faults, trace: values.trace, ...(values.stats ? { stats: true } : {}) };
  } else if (values.faults !== undefined || values.trace !== undefined || values.stats) {
    throw new Error('--faults, --trace and --stats replay one seed: they need --seed N');
  }
  return { appDir, config: values.config, invariants: values.invariants, first, last, budgetMs, workers, ownSessions: values['own-sessions'], swarm: values.swarm, shrink: !values['no-shrink'], maxFailures, maxSlices, replay };
}

/** The command that replays one seed with exactly these faults. */
export function replayCommand(cmd: TestCommand, seed: number, faults: readonly string[]): string {
  const parts = ['ebbrt test', cmd.appDir];
  if (cmd.config !== undefined) parts.push('--config', cmd.config);
  if (cmd.invariants !== undefined) parts.push('--invariants', cmd.invariants);
  if (cmd.maxSlices !== undefined) parts.push('--max-slices', String(cmd.maxSlices));
  parts.push('--seed', String(seed), '--faults', faults.length === 0 ? 'none' : faults.join(','));
  return parts.join(' ');
}

function progressLine(p: Progress): string {
  const rate = p.done / Math.max(p.elapsedMs / 1000, 1e-3);
  const width = 30;
  const bar = p.total === undefined ? '' : '[' + '#'.repeat(Math.round((p.done / p.total) * width)).padEnd(width, '.') + '] ';
  return `${bar}${p.done}${p.total === undefined ? '' : `/${p.total}`} seeds, ${rate.toFixed(1)} seeds/s, ${p.failures} failing`;
}

export function formatReport(cmd: TestCommand, report: SearchReport): string {
  const rate = report.seedsRun / Math.max(report.elapsedMs / 1000, 1e-3);
  const lines = [`ebbrt test: ${report.seedsRun} seeds in ${(report.elapsedMs / 1000).toFixed(1)}s (${rate.toFixed(1)} seeds/s, ${cmd.workers} workers), ${report.failures.length} failing`];
  // What the seeds exercised: a fault that never fired tested nothing.
  const fired = Object.entries(report.fired);
  lines.push(`  faults fired: ${fired.length === 0 ? 'none' : fired.map(([kind, f]) => `${kind} ${f.count} (${f.seeds} seeds)`).join(', ')}`);
  for (const f of report.failures) {
    const r = f.result;
    if (r.crashed !== undefined) {
      lines.push(`FAIL seed ${r.seed}: the worker crashed (a new one took its place)`, `  cause:      ${r.crashed}`, `  replay:     ${replayCommand(cmd, r.seed, r.faults)}${cmd.swarm ? ' (with --swarm the faults are the seed\'s swarm subset: drop --faults to replay all)' : ''}`);
      continue;
    }
    lines.push(`FAIL seed ${r.seed}`, `  faults on:  ${r.faults.join(', ') || 'none'}`, `  violated:   ${r.violation}`);
    if (f.shrunk !== undefined) lines.push(`  shrunk to:  ${f.shrunk.faults.join(', ') || 'none'} (${f.shrunk.violation})`);
    const faults = f.shrunk?.faults ?? r.faults;
    lines.push(`  replay:     ${replayCommand(cmd, r.seed, faults)}`, `  digest:     ${f.shrunk?.digest ?? r.digest}`);
  }
  return lines.join('\n') + '\n';
}

export async function testCommand(argv: readonly string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const cmd = parseTest(argv);
  const where = { appDir: cmd.appDir, ...(cmd.config !== undefined ? { configFile: cmd.config } : {}), ...(cmd.invariants !== undefined ? { invariantsFile: cmd.invariants } : {}) };
  if (cmd.replay !== undefined) {
    const r = await new SeedRunner().run({ ...where, ...(cmd.maxSlices !== undefined ? { maxSlices: cmd.maxSlices } : {}), seed: cmd.replay.seed, faults: cmd.replay.faults, keepTrace: cmd.replay.trace !== undefined, stats: cmd.replay.stats === true });
    if (cmd.replay.trace !== undefined) writeFileSync(cmd.replay.trace, r.trace!);
    out.write(`ebbrt test: seed ${r.seed}, faults ${r.faults.join(',') || 'none'}: ${r.violation === undefined ? 'all invariants hold' : `VIOLATED ${r.violation}`}\n`);
    out.write(`digest ${r.digest}\n`);
    if (r.stats !== undefined) out.write(r.stats.endsWith('\n') ? r.stats : r.stats + '\n');
    return r.violation === undefined ? 0 : 1;
  }
  // A missing or malformed checker is said once, here, not as every seed's failure in the workers.
  await loadInvariants(cmd.appDir, cmd.invariants);
  const pool = new WorkerPool(cmd.workers, { ownSessions: cmd.ownSessions });
  let lastPlain = 0;
  const tty = out.isTTY === true;
  try {
    const report = await search(pool, {
      ...where,
      first: cmd.first,
      last: cmd.last,
      budgetMs: cmd.budgetMs,
      swarm: cmd.swarm,
      shrink: cmd.shrink,
      ...(cmd.maxSlices !== undefined ? { maxSlices: cmd.maxSlices } : {}),
      ...(cmd.maxFailures !== undefined ? { maxFailures: cmd.maxFailures } : {}),
      onProgress: (p) => {
        if (tty) out.write(`\r${progressLine(p)}\x1b[K`);
        else if (p.elapsedMs - lastPlain >= 2000 || p.done === p.total) {
          lastPlain = p.elapsedMs;
          out.write(progressLine(p) + '\n');
        }
      },
    });
    if (tty) out.write('\n');
    out.write(formatReport(cmd, report));
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    pool.close();
  }
}
