/**
 * Benchmark harness (`pnpm bench [filter...]`). Finds packages/<pkg>/bench/*.bench.ts
 * and apps/<app>/bench/*.bench.ts, keeps those whose path contains any filter
 * argument, runs each module's default export, prints a table and the ratios,
 * then one `BENCH_JSON {...}` line and bench-results/latest.json for tooling.
 * Timings never fail the run: only a bench that throws makes the exit code 1.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, type BenchReport } from '@ebbrt/bench-kit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function discover(): string[] {
  const found: string[] = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const pkg of readdirSync(groupDir, { withFileTypes: true })) {
      const benchDir = join(groupDir, pkg.name, 'bench');
      if (!pkg.isDirectory() || !existsSync(benchDir)) continue;
      for (const file of readdirSync(benchDir)) {
        if (file.endsWith('.bench.ts')) found.push(relative(root, join(benchDir, file)));
      }
    }
  }
  return found.sort();
}

function isReport(v: unknown): v is BenchReport {
  const r = v as BenchReport | null;
  return typeof r?.name === 'string' && Array.isArray(r.results) && typeof r.ratios === 'object';
}

async function runOne(file: string): Promise<BenchReport> {
  const mod = (await import(pathToFileURL(join(root, file)).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new Error(`${file} has no default export run()`);
  const report: unknown = await (mod.default as () => Promise<unknown>)();
  if (!isReport(report)) throw new Error(`${file}: run() did not return a BenchReport`);
  return report;
}

function print(file: string, report: BenchReport): void {
  console.log(`\n## ${report.name}  (${file})\n`);
  console.log(formatTable(report.results));
  const ratios = Object.entries(report.ratios);
  if (ratios.length > 0) {
    console.log('\nratios:');
    for (const [k, v] of ratios) console.log(`  ${k} = ${v.toFixed(3)}`);
  }
  for (const note of report.notes ?? []) console.log(`note: ${note}`);
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2).filter((a) => a !== '--');
  const files = discover().filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
  if (files.length === 0) console.log(`no bench files match ${filters.join(' ') || '(all)'}`);
  const reports: (BenchReport & { file: string })[] = [];
  const failures: { file: string; error: string }[] = [];
  for (const file of files) {
    try {
      const report = await runOne(file);
      reports.push({ file, ...report });
      print(file, report);
    } catch (e) {
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      failures.push({ file, error });
      console.error(`\n## ${file} FAILED\n${error}`);
    }
  }
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    reports,
    failures,
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'latest.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(`\nBENCH_JSON ${JSON.stringify(summary)}`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
// A bench that leaves something open (a child process, a socket, a timer) must not keep `pnpm bench`
// from ending after its report is written (2026-12-07: a process-platform node left by a bench kept
// the whole run alive for good). Give the loop a moment to drain, then name what is open and exit.
setTimeout(() => {
  const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
  console.error(`pnpm bench: still open after every bench finished, exiting anyway (a bench leaks them): ${open.join(', ') || '(timers only)'}`);
  process.exit();
}, 10_000).unref();
