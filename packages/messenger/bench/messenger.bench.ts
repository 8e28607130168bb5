/**
 * The Messenger between two simulated nodes (lwIP-style stack over virtio-net, no loss) side by
 * side with two hosted nodes over loopback (node:net), same code, same test cluster helpers:
 *
 * - rtt: a 64 B / 64 KiB message to an echo Ebb on the other node, which sends it back through
 *   its Messenger; round trips per wall-clock second (median per round trip), and virtual µs;
 * - stream: N messages one way, all issued at once; messages/s and MB/s of payload, wall clock.
 *
 * Timings never fail the run.
 */
import { IOBuf } from '@ebbrt/interfaces';
import { quantile, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { payloadFor } from '@ebbrt/testkit/net';
import { hostedCluster, messengerRef, nativeCluster, type Cluster } from '@ebbrt/testkit/cluster';

const RTT_N = Number(process.env.EBBRT_BENCH_MSG_RTT_N ?? 2000);
const RTT_WARMUP = 100;
const STREAM_SMALL = Number(process.env.EBBRT_BENCH_MSG_STREAM_SMALL ?? 20000);
const STREAM_LARGE = Number(process.env.EBBRT_BENCH_MSG_STREAM_LARGE ?? 400);
const SIZES = [64, 65536] as const;
const STREAM_RUNS = 3;
const ECHO = 0x8a00;
const PING = 0x8a01;
const SINK = 0x8a02;


interface Rtt {
  wall: number[];
  virt: number[];
}

async function rtt(c: Cluster, size: number, n: number, virtNow?: () => number): Promise<Rtt> {
  const out: Rtt = { wall: [], virt: [] };
  const msg = payloadFor(3, size);
  let i = 0;
  let t0 = 0;
  let v0 = 0;
  let done = false;
  await c.run(1, 0, () => {
    const m = messengerRef.deref();
    m.register(ECHO + size, (from, type, data) => void m.send(from, PING + size, type, data)); // echo: the same buffers go back
  });
  const ping = (): void => {
    t0 = performance.now();
    v0 = virtNow?.() ?? 0;
    void messengerRef.deref().send(c.id(1), ECHO + size, i, IOBuf.copyOf(msg));
  };
  await c.run(0, 0, () => {
    messengerRef.deref().register(PING + size, (_from, _type, data) => {
      data.releaseChain();
      if (i >= RTT_WARMUP) {
        out.wall.push((performance.now() - t0) * 1e6);
        if (virtNow !== undefined) out.virt.push(virtNow() - v0);
      }
      i++;
      if (i < RTT_WARMUP + n) ping();
      else done = true;
    });
    ping();
  });
  await c.until(() => done, `rtt ${size} B`, 600e9);
  return out;
}

async function stream(c: Cluster, size: number, n: number, run: number): Promise<{ wallS: number; virtS?: number }> {
  const msg = payloadFor(4, size);
  let got = 0;
  let tEnd = 0;
  let vEnd = 0;
  const virtNow = c.native === undefined ? undefined : () => c.native!.sim.now();
  await c.run(1, 0, () =>
    messengerRef.deref().register(SINK + size * 8 + run, (_f, _t, data) => {
      data.releaseChain();
      if (++got === n) {
        tEnd = performance.now();
        vEnd = virtNow?.() ?? 0;
      }
    }),
  );
  const t0 = performance.now();
  const v0 = virtNow?.() ?? 0;
  c.spawn(0, 0, () => {
    const m = messengerRef.deref();
    for (let k = 0; k < n; k++) void m.send(c.id(1), SINK + size * 8 + run, k, IOBuf.copyOf(msg));
  });
  await c.until(() => got === n, `stream ${n} x ${size} B`, 600e9);
  return { wallS: (tEnd - t0) / 1000, virtS: virtNow === undefined ? undefined : (vEnd - v0) / 1e9 };
}

interface Figures {
  rtt: Record<number, Rtt>;
  stream: Record<number, { wallS: number; virtS?: number; n: number }>;
}

async function measureOn(kind: 'native' | 'hosted'): Promise<Figures> {
  const c = kind === 'native' ? await nativeCluster({ seed: 1 }) : await hostedCluster();
  try {
    const virtNow = c.native === undefined ? undefined : () => c.native!.sim.now();
    const figures: Figures = { rtt: {}, stream: {} };
    // Open the connections first (both directions), so the figures exclude the handshakes.
    await c.run(0, 0, () => messengerRef.deref().register(1, (_f, _t, d) => d.releaseChain()));
    await c.run(1, 0, () => messengerRef.deref().register(1, (_f, _t, d) => d.releaseChain()));
    await c.run(0, 0, () => messengerRef.deref().send(c.id(1), 1, 0, IOBuf.copyOf('warm')));
    await c.idle(5e6);
    for (const size of SIZES) figures.rtt[size] = await rtt(c, size, size > 1024 ? Math.max(100, RTT_N / 4) : RTT_N, virtNow);
    for (const size of SIZES) {
      const n = size > 1024 ? STREAM_LARGE : STREAM_SMALL;
      const runs: { wallS: number; virtS?: number }[] = [];
      for (let r = 0; r < STREAM_RUNS; r++) runs.push(await stream(c, size, n, r));
      runs.sort((x, y) => x.wallS - y.wallS);
      figures.stream[size] = { ...runs[Math.floor(runs.length / 2)]!, n };
    }
    return figures;
  } finally {
    await c.dispose();
  }
}

function rttResult(name: string, r: Rtt): BenchResult {
  const w = [...r.wall].sort((a, b) => a - b);
  const res: BenchResult = {
    name,
    medianNs: quantile(w, 0.5),
    p99Ns: quantile(w, 0.99),
    roundTripsPerSec: 1e9 / quantile(w, 0.5),
    wallUs: quantile(w, 0.5) / 1000,
    n: w.length,
  };
  if (r.virt.length > 0) res.virtUs = quantile([...r.virt].sort((a, b) => a - b), 0.5) / 1000;
  return res;
}

function streamResult(name: string, size: number, s: { wallS: number; virtS?: number; n: number }): BenchResult {
  const res: BenchResult = {
    name,
    medianNs: (s.wallS * 1e9) / s.n,
    messagesPerSec: s.n / s.wallS,
    wallMBps: (s.n * size) / s.wallS / (1 << 20),
    n: s.n,
  };
  if (s.virtS !== undefined) res.virtMBps = (s.n * size) / s.virtS / (1 << 20);
  return res;
}

export default async function run(): Promise<BenchReport> {
  const native = await measureOn('native');
  const hosted = await measureOn('hosted');
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  for (const size of SIZES) {
    const label = size === 64 ? '64 B' : '64 KiB';
    const a = rttResult(`rtt ${label} native sim<->sim`, native.rtt[size]!);
    const b = rttResult(`rtt ${label} hosted loopback`, hosted.rtt[size]!);
    results.push(a, b);
    ratios[`native/hosted rtt ${label} wall median`] = a.medianNs / b.medianNs;
  }
  for (const size of SIZES) {
    const label = size === 64 ? '64 B' : '64 KiB';
    const a = streamResult(`stream ${label} native sim->sim`, size, native.stream[size]!);
    const b = streamResult(`stream ${label} hosted loopback`, size, hosted.stream[size]!);
    results.push(a, b);
    ratios[`native/hosted stream ${label} wall throughput`] = (a.wallMBps as number) / (b.wallMBps as number);
  }
  return {
    name: 'Messenger: two simulated nodes (lwIP stack) vs two hosted nodes (node:net loopback)',
    results,
    ratios,
    notes: [
      `rtt: ${RTT_N} round trips of 64 B (${Math.max(100, RTT_N / 4)} of 64 KiB) after ${RTT_WARMUP} warm-up; the echo handler sends the received IOBuf back (no copy); connection already open`,
      `stream: ${STREAM_SMALL} x 64 B and ${STREAM_LARGE} x 64 KiB one way, all sends issued in one event (IOBuf.copyOf per message), median of ${STREAM_RUNS} runs; medianNs = wall time per message`,
      'native: 2 cores per node, 10 µs link latency, no loss; virtUs / virtMBps are in simulated time',
    ],
  };
}
