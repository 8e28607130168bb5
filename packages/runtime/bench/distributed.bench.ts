/**
 * The distributed runtime, side by side: node allocation (cold vs from the dormant pool, in-process
 * vs one OS process per node) and the front-end ↔ node Messenger path (64 B round trips and 64 KiB
 * throughput) with the node simulated in this process vs in its own process. Each case boots an
 * app through `runApp` in real time; the front-end main measures and prints one JSON line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport, BenchResult } from '../../../scripts/bench-lib.js';
import { runApp } from '../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const POOL_N = Number(process.env.EBBRT_BENCH_POOL_N ?? 20);
const RTT_N = Number(process.env.EBBRT_BENCH_MSG_RTT_N ?? 1000);
const BULK_N = Number(process.env.EBBRT_BENCH_MSG_BULK_N ?? 200);

const nodeMain = `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
export function main() {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const echo = staticEbbId('bench.echo');
  // Echo every message back (ownership of the received chain passes on: zero copy).
  messenger.register(echo, (from, type, message) => void messenger.send(from, echo, type, message));
}
`;

const frontendMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
export async function main(ctx) {
  const [mode, poolN, rttN, bulkN] = ctx.args;
  const na = new EbbRef(SystemEbbIds.NodeAllocator).deref();
  const out = {};
  const shape = { cores: 1, memoryBytes: 16 << 20 };
  if (mode === 'alloc') {
    const timer = new EbbRef(SystemEbbIds.Timer).deref();
    const pool = [];
    for (let i = 0; i < Number(poolN); i++) {
      // Each hand-out is timed alone: the pool is full and its nodes are warm (connected).
      await na.whenPoolReady();
      await timer.sleep(30000);
      const t0 = performance.now();
      await na.allocateNode('./node.mjs', shape).networkId;
      pool.push(performance.now() - t0);
    }
    out.poolMs = median(pool);
    const cold = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await na.allocateNode('./node.mjs', { cores: 2, memoryBytes: 16 << 20 }).networkId;
      cold.push(performance.now() - t0);
    }
    out.coldMs = median(cold);
  } else {
    const [id] = await ctx.backends();
    const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
    const echo = staticEbbId('bench.echo');
    let waiter;
    let received = 0;
    messenger.register(echo, (from, type, message) => {
      received += message.computeChainDataLength();
      message.releaseChain();
      waiter?.();
    });
    const small = new Uint8Array(64);
    const rtts = [];
    for (let i = 0; i < Number(rttN); i++) {
      const got = new Promise((r) => (waiter = r));
      const t0 = performance.now();
      await messenger.send(id, echo, 1, IOBuf.copyOf(small));
      await got;
      rtts.push(performance.now() - t0);
    }
    out.rttUs = median(rtts.slice(50)) * 1000;
    const big = new Uint8Array(64 * 1024);
    received = 0;
    const all = new Promise((r) => (waiter = () => received >= Number(bulkN) * big.length && r()));
    const t0 = performance.now();
    for (let i = 0; i < Number(bulkN); i++) await messenger.send(id, echo, 2, IOBuf.copyOf(big));
    await all;
    // Bytes each way: the 64 KiB messages go to the node and come back.
    out.bulkMBps = (Number(bulkN) * big.length) / 1e6 / ((performance.now() - t0) / 1000);
  }
  ctx.log('RESULT ' + JSON.stringify(out));
}
`;

async function runCase(mode: 'alloc' | 'msg', platform: 'in-process' | 'process'): Promise<Record<string, number>> {
  const tmp = join(HERE, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'app-'));
  try {
    writeFileSync(join(dir, 'node.mjs'), nodeMain);
    writeFileSync(join(dir, 'frontend.mjs'), frontendMain);
    writeFileSync(
      join(dir, 'ebbrt.config.json'),
      JSON.stringify({
        entry: { frontend: './frontend.mjs', backend: './node.mjs' },
        clock: 'realtime',
        backend: { nodes: mode === 'msg' ? 1 : 0, platform, machine: { cores: 1, memory: '16MiB' } },
        frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: { poolSize: mode === 'alloc' ? 4 : 0 } } } },
        network: {},
        args: [mode, String(POOL_N), String(RTT_N), String(BULK_N)],
      }),
    );
    const lines: string[] = [];
    const run = await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [ROOT], signal: AbortSignal.timeout(120_000) });
    const line = lines.find((l) => l.includes('RESULT '));
    if (line === undefined || run.failures.length > 0) throw new Error(`${mode}/${platform} failed:\n${lines.join('\n')}`);
    return JSON.parse(line.split('RESULT ')[1]!) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchReport> {
  const results: BenchResult[] = [];
  const a = await runCase('alloc', 'in-process');
  const p = await runCase('alloc', 'process');
  results.push(
    { name: 'allocateNode from the dormant pool (in-process)', medianNs: a.poolMs! * 1e6, ms: a.poolMs },
    { name: 'allocateNode cold (in-process)', medianNs: a.coldMs! * 1e6, ms: a.coldMs },
    { name: 'allocateNode from the dormant pool (process per node)', medianNs: p.poolMs! * 1e6, ms: p.poolMs },
    { name: 'allocateNode cold (process per node)', medianNs: p.coldMs! * 1e6, ms: p.coldMs },
  );
  const mi = await runCase('msg', 'in-process');
  const mp = await runCase('msg', 'process');
  results.push(
    { name: 'front-end ↔ node Messenger 64 B round trip (in-process node)', medianNs: mi.rttUs! * 1e3, opsPerSec: 1e6 / mi.rttUs! },
    { name: 'front-end ↔ node Messenger 64 B round trip (node process)', medianNs: mp.rttUs! * 1e3, opsPerSec: 1e6 / mp.rttUs! },
    { name: 'front-end ↔ node Messenger 64 KiB echo throughput (in-process node)', medianNs: NaN, MBps: mi.bulkMBps },
    { name: 'front-end ↔ node Messenger 64 KiB echo throughput (node process)', medianNs: NaN, MBps: mp.bulkMBps },
  );
  return {
    name: 'distributed runtime: node allocation and the front-end ↔ node Messenger',
    results,
    ratios: {
      'in-process cold/pool': a.coldMs! / a.poolMs!,
      'process cold/pool': p.coldMs! / p.poolMs!,
      'rtt process/in-process': mp.rttUs! / mi.rttUs!,
      'bulk process/in-process': mp.bulkMBps! / mi.bulkMBps!,
    },
    notes: [
      'pool: allocation takes a dormant node (machine, NIC, system Ebbs booted) and only activates it: load the image, link the Messenger directories, run the agent and wait for its READY over the Messenger',
      'the front-end reaches an in-process node through a port forward into the gateway node, and a node process through that process\'s own forward; both cross real loopback TCP and two simulated TCP stacks',
    ],
  };
}
