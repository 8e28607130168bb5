/**
 * The distributed runtime, side by side: node allocation (cold vs from the dormant pool, in-process
 * vs one OS process per node), the front-end ↔ node Messenger path (64 B round trips, a 64 B
 * stream, 64 KiB echo throughput) and the GlobalIdMap from a node to its home on the front-end,
 * with the node simulated in this process vs in its own process. Each case boots an
 * app through `runApp` in real time; the front-end main measures and prints one JSON line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport, BenchResult } from '@ebbrt/bench-kit';
import { runApp } from '../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const POOL_N = Number(process.env.EBBRT_BENCH_POOL_N ?? 20);
const RTT_N = Number(process.env.EBBRT_BENCH_MSG_RTT_N ?? 1000);
const BULK_N = Number(process.env.EBBRT_BENCH_MSG_BULK_N ?? 200);

const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
export function main() {
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const map = new EbbRef(SystemEbbIds.GlobalIdMap);
  const echo = staticEbbId('bench.echo');
  const control = staticEbbId('bench.control');
  let sunk = 0;
  // Echo every message back (ownership of the received chain passes on: zero copy); type 3 is
  // a stream to count, and acknowledged once, as one reply, when the expected count has arrived.
  messenger.register(echo, (from, type, message) => {
    if (type !== 3) return void messenger.send(from, echo, type, message);
    message.releaseChain();
    if (++sunk === Number(globalThis.__streamN)) { sunk = 0; void messenger.send(from, echo, 4, IOBuf.copyOf('done')); }
  });
  // The GlobalIdMap from this node to its home on the front-end: sequential, then 32 in flight.
  messenger.register(control, async (from, type, message) => {
    const [op, n] = new TextDecoder().decode(message.toUint8Array()).split(' ');
    message.releaseChain();
    if (op === 'stream') { globalThis.__streamN = n; return void messenger.send(from, control, 1, IOBuf.copyOf('ok')); }
    const count = Number(n);
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await map.deref().set(0x00020000 + i, 'v' + i);
    const seq = count / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < count; i += 32) {
      const batch = [];
      for (let k = i; k < Math.min(count, i + 32); k++) batch.push(map.deref().get(0x00020000 + k));
      await Promise.all(batch);
    }
    const par = count / ((performance.now() - t0) / 1000);
    void messenger.send(from, control, 2, IOBuf.copyOf(JSON.stringify({ seq, par })));
  });
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
    // 64 B messages one way, as fast as they are accepted; the node acknowledges the last.
    const control = staticEbbId('bench.control');
    let controlReply;
    let controlWaiter;
    messenger.register(control, (from, type, message) => {
      controlReply = new TextDecoder().decode(message.toUint8Array());
      message.releaseChain();
      controlWaiter?.();
    });
    const ask = async (text) => {
      const got = new Promise((r) => (controlWaiter = r));
      await messenger.send(id, control, 1, IOBuf.copyOf(text));
      await got;
      return controlReply;
    };
    const streamN = 20000;
    await ask('stream ' + streamN);
    const streamed = new Promise((r) => (waiter = r));
    const s0 = performance.now();
    for (let i = 0; i < streamN; i++) await messenger.send(id, echo, 3, IOBuf.copyOf(small));
    await streamed;
    out.streamPerSec = streamN / ((performance.now() - s0) / 1000);
    const gim = JSON.parse(await ask('gim 2000'));
    out.gimSeq = gim.seq;
    out.gimPar = gim.par;
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
    { name: 'front-end → node Messenger 64 B stream (in-process node)', medianNs: 1e9 / mi.streamPerSec!, messagesPerSec: mi.streamPerSec },
    { name: 'front-end → node Messenger 64 B stream (node process)', medianNs: 1e9 / mp.streamPerSec!, messagesPerSec: mp.streamPerSec },
    { name: 'GlobalIdMap set from a node, sequential (in-process node)', medianNs: 1e9 / mi.gimSeq!, opsPerSec: mi.gimSeq },
    { name: 'GlobalIdMap set from a node, sequential (node process)', medianNs: 1e9 / mp.gimSeq!, opsPerSec: mp.gimSeq },
    { name: 'GlobalIdMap get from a node, 32 in flight (in-process node)', medianNs: 1e9 / mi.gimPar!, opsPerSec: mi.gimPar },
    { name: 'GlobalIdMap get from a node, 32 in flight (node process)', medianNs: 1e9 / mp.gimPar!, opsPerSec: mp.gimPar },
  );
  return {
    name: 'distributed runtime: node allocation and the front-end ↔ node Messenger',
    results,
    ratios: {
      'in-process cold/pool': a.coldMs! / a.poolMs!,
      'process cold/pool': p.coldMs! / p.poolMs!,
      'rtt process/in-process': mp.rttUs! / mi.rttUs!,
      'bulk process/in-process': mp.bulkMBps! / mi.bulkMBps!,
      'stream 64 B process/in-process': mp.streamPerSec! / mi.streamPerSec!,
      'GlobalIdMap set seq process/in-process': mp.gimSeq! / mi.gimSeq!,
      'GlobalIdMap get 32-in-flight process/in-process': mp.gimPar! / mi.gimPar!,
    },
    notes: [
      'pool: allocation takes a dormant node (machine, NIC, system Ebbs booted) and only activates it: load the image, link the Messenger directories, run the agent and wait for its READY over the Messenger',
      'the front-end reaches an in-process node through a port forward into the gateway node, and a node process through that process\'s own forward; both cross real loopback TCP and two simulated TCP stacks',
    ],
  };
}
