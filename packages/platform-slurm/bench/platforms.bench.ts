/**
 * NodePlatforms side by side: in-process, process-per-node and Slurm (a real one-host cluster
 * from @ebbrt/testkit/slurm-cluster; skipped with a note where Slurm cannot start). For each, one
 * application whose front-end main measures, with the real NodeAllocator:
 * - cold allocateNode: a shape the dormant pool does not hold, so a node is booted (for Slurm:
 *   sbatch, the job starts, the agent dials in, boots to dormant, is activated, reports back);
 * - pool hand-out: allocateNode of the pool's shape once the pool is full (activate + report);
 * - Messenger round trip front-end -> node -> front-end (one message in flight).
 * medianNs per case; ratios against in-process; a note says whether Slurm's hand-out is under the
 * 10 ms target. Timings never fail the run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { runApp } from '@ebbrt/runtime';
import { SlurmCluster, slurmPrerequisites } from '@ebbrt/testkit/slurm-cluster';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const COLD = Number(process.env['EBBRT_BENCH_PLATFORM_COLD'] ?? 3);
const POOLED = Number(process.env['EBBRT_BENCH_PLATFORM_POOLED'] ?? 3);
const RTT = Number(process.env['EBBRT_BENCH_PLATFORM_RTT'] ?? 300);

const NODE = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const ECHO = staticEbbId('bench.platforms.echo');
export function main() {
  const m = new EbbRef(SystemEbbIds.Messenger).deref();
  m.register(ECHO, (from, type, message) => {
    const copy = IOBuf.copyOf(message.toUint8Array());
    message.releaseChain();
    void m.send(from, ECHO, type, copy);
  });
}
`;

/** The front-end: waits `refillUs` for the pool to fill before each pooled allocation. */
const frontend = (refillUs: number): string => `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const ECHO = staticEbbId('bench.platforms.echo');
export async function main(ctx) {
  const alloc = new EbbRef(SystemEbbIds.NodeAllocator).deref();
  const timer = new EbbRef(SystemEbbIds.Timer).deref();
  const m = new EbbRef(SystemEbbIds.Messenger).deref();
  const pooledShape = { cores: 2, memoryBytes: 32 * 1024 * 1024 };
  const coldShape = { cores: 1, memoryBytes: 16 * 1024 * 1024 };
  const cold = [], pooled = [], rtt = [];
  for (let i = 0; i < ${COLD}; i++) {
    const t0 = performance.now();
    const id = await alloc.allocateNode('./node.mjs', coldShape).networkId;
    cold.push(performance.now() - t0);
    await alloc.freeNode(id);
  }
  let echoNode;
  for (let i = 0; i < ${POOLED}; i++) {
    await timer.sleep(${refillUs});
    const t0 = performance.now();
    const id = await alloc.allocateNode('./node.mjs', pooledShape).networkId;
    pooled.push(performance.now() - t0);
    if (echoNode === undefined) echoNode = id; else await alloc.freeNode(id);
  }
  let reply;
  m.register(ECHO, (from, type, message) => { message.releaseChain(); reply(); });
  for (let i = 0; i < ${RTT} + 20; i++) {
    const back = new Promise((r) => (reply = r));
    const t0 = performance.now();
    await m.send(echoNode, ECHO, 1, IOBuf.copyOf('ping'));
    await back;
    if (i >= 20) rtt.push(performance.now() - t0);
  }
  ctx.log('RESULT ' + JSON.stringify({ cold, pooled, rtt }));
}
`;

interface Measured {
  cold: number[];
  pooled: number[];
  rtt: number[];
}

async function measure(platform: unknown, refillUs: number): Promise<Measured> {
  mkdirSync(join(PACKAGE_DIR, 'bench', '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(PACKAGE_DIR, 'bench', '.tmp', 'app-'));
  const config = {
    entry: { frontend: './frontend.mjs' },
    clock: 'realtime',
    network: {},
    frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: { poolSize: 2 } } } },
    backend: { nodes: 0, machine: { cores: 2, memory: '32MiB' }, platform },
  };
  writeFileSync(join(dir, 'ebbrt.config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'frontend.mjs'), frontend(refillUs));
  writeFileSync(join(dir, 'node.mjs'), NODE);
  const lines: string[] = [];
  try {
    await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [PACKAGE_DIR], signal: AbortSignal.timeout(300_000) });
    const line = lines.find((l) => l.includes('RESULT '));
    if (line === undefined) throw new Error(`no RESULT line:\n${lines.slice(-20).join('\n')}`);
    return JSON.parse(line.slice(line.indexOf('RESULT ') + 7)) as Measured;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchReport> {
  const report: BenchReport = { name: 'platforms: allocateNode (cold, dormant pool) and Messenger round trip', results: [], ratios: {}, notes: [] };
  const by: Record<string, Measured> = {};
  by['in-process'] = await measure('in-process', 200_000);
  by['process'] = await measure('process', 3_000_000);
  const reason = slurmPrerequisites();
  let cluster: SlurmCluster | undefined;
  if (reason !== undefined) report.notes!.push(`slurm skipped: ${reason}`);
  else {
    try {
      cluster = await SlurmCluster.start({ cpus: 2 });
      by['slurm'] = await measure(
        { package: '@ebbrt/platform-slurm', options: { frontendAddress: '127.0.0.1:0', slurmConf: cluster.conf, commands: cluster.commands, pollMs: 1000 } },
        4_000_000,
      );
    } catch (e) {
      report.notes!.push(`slurm failed: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      await cluster?.stop();
    }
  }
  const ms = (v: number[]): number => median(v) * 1e6;
  for (const [name, m] of Object.entries(by)) {
    const rows: BenchResult[] = [
      { name: `${name}: allocateNode cold`, medianNs: ms(m.cold), runs: m.cold.length },
      { name: `${name}: allocateNode from dormant pool`, medianNs: ms(m.pooled), runs: m.pooled.length },
      { name: `${name}: Messenger round trip`, medianNs: ms(m.rtt), runs: m.rtt.length },
    ];
    report.results.push(...rows);
  }
  const base = by['in-process']!;
  for (const name of ['process', 'slurm']) {
    const m = by[name];
    if (m === undefined) continue;
    report.ratios[`${name}/in-process cold allocate`] = median(m.cold) / median(base.cold);
    report.ratios[`${name}/in-process pool hand-out`] = median(m.pooled) / median(base.pooled);
    report.ratios[`${name}/in-process round trip`] = median(m.rtt) / median(base.rtt);
  }
  const slurm = by['slurm'];
  if (slurm !== undefined) {
    report.ratios['slurm cold / pool hand-out'] = median(slurm.cold) / median(slurm.pooled);
    report.ratios['slurm pool hand-out / 10 ms target'] = median(slurm.pooled) / 10;
    report.notes!.push(`slurm dormant-pool hand-out median ${median(slurm.pooled).toFixed(2)} ms (${median(slurm.pooled) < 10 ? 'under' : 'over'} the 10 ms target)`);
  }
  report.notes!.push('one host, 2 shared cores; Slurm polls job state every 1 s (not on the allocation path)');
  return report;
}
