/**
 * Shared helpers for `*.bench.ts` modules: the report shape the harness
 * expects, a tinybench wrapper that turns latency samples into per-operation
 * medians, and a plain-text table printer.
 */
import { Bench } from 'tinybench';
import { quantile } from './quantile.js';

export interface BenchResult {
  name: string;
  /** Median time of one operation, in nanoseconds. */
  medianNs: number;
  p99Ns?: number;
  opsPerSec?: number;
  [k: string]: unknown;
}

/** What every bench module's default export resolves to. */
export interface BenchReport {
  name: string;
  results: BenchResult[];
  /** Named ratios between results, e.g. `ebbref/direct`. */
  ratios: Record<string, number>;
  notes?: string[];
}

export interface BenchCase {
  name: string;
  /** One tinybench iteration. Must be synchronous: the wrapper uses runSync. */
  fn: () => unknown;
  /** How many operations one call of `fn` performs (batching amortises timer cost). */
  opsPerIteration?: number;
}

export interface MeasureOptions {
  /** Time per case per round, ms. */
  timeMs?: number;
  warmupMs?: number;
  /**
   * Rounds run every case in turn, so slow drift (CPU frequency, GC pressure)
   * hits all cases alike instead of whichever happened to run last.
   */
  rounds?: number;
}

/** Runs the cases with tinybench 4 and reports the median and p99 per operation. */
export function measure(cases: readonly BenchCase[], options: MeasureOptions = {}): BenchResult[] {
  const { timeMs = 500, warmupMs = 200, rounds = 3 } = options;
  const samplesNs = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    // `throws: true` so a failing case aborts the bench instead of hiding in a result.
    const bench = new Bench({ time: timeMs, warmupTime: round === 0 ? warmupMs : 0, throws: true });
    for (const c of cases) bench.add(c.name, c.fn);
    for (const task of bench.runSync()) {
      const result = task.result;
      if (result === undefined) throw new Error(`bench case ${task.name} produced no result`);
      if (result.error !== undefined) throw result.error;
      const per = cases.find((c) => c.name === task.name)!.opsPerIteration ?? 1;
      // tinybench samples are milliseconds per iteration.
      // A loop, not push(...samples): fast cases yield more samples than the call stack allows arguments.
      const into = samplesNs.get(task.name)!;
      for (const ms of result.latency.samples) into.push((ms * 1e6) / per);
    }
  }
  return cases.map((c) => {
    const sorted = samplesNs.get(c.name)!.sort((a, b) => a - b);
    const medianNs = quantile(sorted, 0.5);
    return {
      name: c.name,
      medianNs,
      p99Ns: quantile(sorted, 0.99),
      opsPerSec: 1e9 / medianNs,
      samples: sorted.length,
    };
  });
}

/** Looks up a result's median by name, failing loudly on a typo. */
export function medianOf(results: readonly BenchResult[], name: string): number {
  const r = results.find((x) => x.name === name);
  if (r === undefined) throw new Error(`no bench result named ${name}`);
  return r.medianNs;
}

function cell(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Math.abs(v) >= 1e6) return v.toExponential(3);
    return v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  }
  return v === undefined ? '' : String(v);
}

/** Formats rows as an aligned text table; columns are the union of row keys. */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
