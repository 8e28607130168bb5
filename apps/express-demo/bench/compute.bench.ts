/**
 * Pure compute on a node against plain Node: the same kernel script (bench/compute-run.cjs over
 * bench/kernels.cjs) run by plain Node in its own process and by a node (its own module loader,
 * its own globals), each timing itself with performance.now() (Node's own, or the node's clock,
 * which follows the wall clock in a realtime run). Two passes each, interleaved, to spread the
 * machine's noise over both; the checksums must agree.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { runApp } from '@ebbrt/runtime';
import { APP_DIR } from '../test/run-demo.js';

const ROUNDS = Number(process.env.EBBRT_BENCH_ROUNDS ?? 7);
const WARMUP = 2;
const PASSES = 2;

type Times = Map<string, { ms: number[]; check: string }>;

function parse(lines: string[], into: Times): void {
  for (const line of lines) {
    const m = /K (\w+) (\d+) ([\d.]+) (\d+)/.exec(line);
    if (m === null || Number(m[2]) < WARMUP) continue;
    const entry = into.get(m[1]!) ?? { ms: [], check: m[4]! };
    if (entry.check !== m[4]) throw new Error(`${m[1]}: checksum ${m[4]} differs from ${entry.check}`);
    entry.ms.push(Number(m[3]));
    into.set(m[1]!, entry);
  }
}

function plain(into: Times): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [join(APP_DIR, 'bench/compute-run.cjs'), String(ROUNDS)], (err, stdout) => {
      if (err) return reject(err);
      parse(stdout.split('\n'), into);
      resolve();
    }),
  );
}

async function onNode(into: Times): Promise<void> {
  const dir = join(APP_DIR, 'test', '.tmp');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `bench-compute-${process.pid}.config.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      name: 'bench-compute',
      entry: { backend: './src/backend.ts' },
      clock: 'realtime',
      backend: { nodes: 1, machine: { cores: 1, memory: '256MiB' } },
      args: ['bench/compute-run.cjs', String(ROUNDS)],
    }),
  );
  const lines: string[] = [];
  try {
    await runApp(APP_DIR, { configFile, output: (line) => lines.push(line) });
  } finally {
    rmSync(configFile, { force: true });
  }
  parse(lines, into);
}

export default async function run(): Promise<BenchReport> {
  const host: Times = new Map();
  const node: Times = new Map();
  for (let pass = 0; pass < PASSES; pass++) {
    await plain(host);
    await onNode(node);
  }
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  let logSum = 0;
  for (const [name, t] of host) {
    const n = node.get(name);
    if (n === undefined || n.check !== t.check) throw new Error(`${name}: the node computed ${n?.check}, plain Node ${t.check}`);
    const p = median(t.ms);
    const q = median(n.ms);
    results.push({ name: `${name}, plain Node`, medianNs: p * 1e6 }, { name: `${name}, on a node`, medianNs: q * 1e6 });
    ratios[`${name} node/plain time`] = q / p;
    logSum += Math.log(q / p);
  }
  ratios['geomean node/plain time'] = Math.exp(logSum / host.size);
  return {
    name: 'node-compat: compute kernels on a node vs plain Node',
    results,
    ratios,
    notes: [
      `${PASSES} interleaved passes of ${ROUNDS} runs per kernel (the first ${WARMUP} of each dropped); medians; checksums agree. The kernels are this repo's compact versions of richards, deltablue, crypto (512-bit modpow) and raytrace.`,
      "Expected gap ~0: the JIT sees the same code; the node differs only in what the code reaches through it (Math is a frozen object inheriting the real one, with the node's random, Date, timers). On this shared 2-core machine run-to-run noise is larger than 2%.",
    ],
  };
}
