/**
 * TCP on the native lwIP-style stack between two simulated nodes (no loss), side by side with
 * the hosted NetworkManager over loopback and a plain node:net baseline, in one run:
 *
 * - bulk: BULK_MB one way, payload bits per wall-clock second (median of BULK_RUNS), plus the
 *   throughput in the simulation's virtual time for the native stack; the native stack also at
 *   MTU 9000 (JUMBO_MTU), since node:net's loopback runs 64 KiB segments;
 * - rtt: 64 B request / 64 B response over one connection, RTT_N round trips: median and p99
 *   per round trip, wall µs (all three) and virtual µs (native).
 *
 * The responder in the NetworkManager cases is the same `startEcho` app the tests run on both
 * stacks. Timings never fail the run.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { EbbRef, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { IOBuf, SystemEbbIds, type EventManagerRoot, type NetworkManager, type TcpConnection, type TcpHandler, type TcpListener } from '@ebbrt/interfaces';
import { hostedNetworkOptionsSchema, manifest as hostedManifest, type HostedNetworkManager } from '@ebbrt/network-manager-hosted';
import { median, quantile, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { newEchoStats, startEcho } from '../test/echo-app.js';
import { netFixture, payloadFor } from '@ebbrt/testkit/net';
import type { SteppingMode } from '@ebbrt/hw-x86sim';

const MB = 1 << 20;
const BULK_MB = Number(process.env.EBBRT_BENCH_BULK_MB ?? 32);
const BULK_BYTES = BULK_MB * MB;
const BULK_RUNS = Number(process.env.EBBRT_BENCH_BULK_RUNS ?? 3);
/**
 * Untimed transfers of each case before the timed ones. Without them the first lwip run (JIT
 * warm-up of the whole stack and device model) took 2-5x the later ones and was often the
 * median of 3: the ratio then measured V8's tier-up, not the stack.
 */
const BULK_WARMUP = Number(process.env.EBBRT_BENCH_BULK_WARMUP ?? 2);
const RTT_N = Number(process.env.EBBRT_BENCH_RTT_N ?? 2000);
/** The jumbo-frame bulk row's MTU (the memcached app's own; the option's maximum). */
const JUMBO_MTU = 9000;
const RTT_WARMUP = 100;
const MSG = 64;
const CHUNK = 64 * 1024;
const chunk = payloadFor(1, CHUNK);
const msg = payloadFor(2, MSG);
const nmRef = new EbbRef<NetworkManager>(SystemEbbIds.NetworkManager);


/**
 * Sends `total` bytes of 64 KiB chunks through the NetworkManager interface with back-pressure:
 * `send` while the window has room, then one `sendQueued` (which arms sendWindowIncreased).
 */
function bulkSender(total: number, onAllQueued: (c: TcpConnection) => void): TcpHandler {
  let sent = 0;
  const pump = (c: TcpConnection): void => {
    while (sent < total) {
      const n = Math.min(CHUNK, total - sent);
      const room = c.sendWindowRemaining();
      const buf = IOBuf.copyOf(n === CHUNK ? chunk : chunk.subarray(0, n));
      sent += n;
      if (n <= room) {
        c.send(buf);
      } else {
        c.sendQueued(buf);
        if (sent < total) return; // resume on sendWindowIncreased
      }
    }
    onAllQueued(c);
  };
  return {
    connected: pump,
    sendWindowIncreased: pump,
    receive: (_c, d) => d.releaseChain(),
    closed: (c) => c.close(),
  };
}

/** A sink: counts and releases, calls `done` once `total` bytes arrived. */
let sinkClosed = 0;
function sink(total: number, done: () => void): (c: TcpConnection) => TcpHandler {
  let got = 0;
  return () => ({
    receive(_c, d) {
      got += d.computeChainDataLength();
      d.releaseChain();
      if (got === total) done();
    },
    closed: (c) => {
      sinkClosed++;
      c.close();
    },
  });
}

/** Ping-pong client: sends MSG bytes, waits for MSG bytes back, RTT_WARMUP + RTT_N times. */
function pingClient(now: () => number, out: { wall: number[]; virt: number[] }, done: () => void, virtNow?: () => number): TcpHandler {
  let got = 0;
  let i = 0;
  let t0 = 0;
  let v0 = 0;
  const ping = (c: TcpConnection): void => {
    t0 = now();
    v0 = virtNow?.() ?? 0;
    c.send(IOBuf.copyOf(msg));
  };
  return {
    connected: ping,
    receive(c, d) {
      got += d.computeChainDataLength();
      d.releaseChain();
      if (got < MSG) return;
      got -= MSG;
      if (i >= RTT_WARMUP) {
        out.wall.push(now() - t0);
        if (virtNow !== undefined) out.virt.push(virtNow() - v0);
      }
      i++;
      if (i < RTT_WARMUP + RTT_N) ping(c);
      else {
        c.close();
        done();
      }
    },
  };
}

const wallNs = (): number => performance.now() * 1e6;

/** Polls `cond` every millisecond for up to `timeoutMs`. */
async function settle(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const t0 = performance.now();
  while (!cond() && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 1));
}

// ---------------------------------------------------------------- native (simulated) stack

/** CPU seconds (user + system, every thread of the process) since `c0`. */
const cpuSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

/**
 * `mtu`: both NICs' MTU (the fixture's default 1500; 9000 is what the memcached app runs, and
 * node:net's loopback runs 65536), so the bench shows what larger segments are worth.
 */
export async function lwipBulk(stepping: SteppingMode = 'chained', mtu = 1500): Promise<{ wallS: number; cpuS: number; virtS: number; slices: number; stats: Record<string, number> }> {
  // A receive buffer holds the virtio-net header, the Ethernet header and the frame (options.ts).
  const jumbo = mtu === 1500 ? {} : { mtu, rxBufferSize: Math.max(2048, mtu + 26) };
  const f = netFixture({ seed: 1, memoryBytes: 64 * MB, options: { tcpMslUs: 100_000, ...jumbo }, stepping });
  const [a, b] = [f.nodes[0]!, f.nodes[1]!];
  let tEnd = 0;
  let vEnd = 0;
  let cpuS = 0;
  let c0 = process.cpuUsage();
  f.run(1, 0, () => {
    nmRef.deref().tcpListen(5001, sink(BULK_BYTES, () => {
      tEnd = performance.now();
      cpuS = cpuSince(c0);
      vEnd = f.sim.now();
      f.sim.stop();
    }));
  });
  f.run(0, 0, () => a.rep().whenReady());
  await f.sim.run({ untilNs: f.sim.now() + 10e6 });
  const t0 = performance.now();
  c0 = process.cpuUsage();
  const v0 = f.sim.now();
  const s0 = f.sim.totalSlices;
  f.run(0, 0, () => {
    nmRef.deref().tcpConnect('10.0.0.2', 5001, bulkSender(BULK_BYTES, (c) => c.close()));
  });
  await f.sim.run({ untilNs: v0 + 600e9 });
  if (tEnd === 0) throw new Error('lwip bulk transfer did not complete');
  const s = a.nm.tcp.stats as unknown as Record<string, number>;
  void b;
  return { wallS: (tEnd - t0) / 1000, cpuS, virtS: (vEnd - v0) / 1e9, slices: f.sim.totalSlices - s0, stats: { retransmits: s.retransmits ?? 0, fastRetransmits: s.fastRetransmits ?? 0 } };
}

export async function lwipRtt(stepping: SteppingMode = 'chained'): Promise<{ wall: number[]; virt: number[]; slicesPerRtt: number }> {
  const f = netFixture({ seed: 2, options: { tcpMslUs: 100_000 }, stepping });
  const out = { wall: [] as number[], virt: [] as number[] };
  let listener: TcpListener | undefined;
  f.run(1, 0, async () => {
    listener = await startEcho(nmRef.deref(), 7);
  });
  f.run(0, 0, () => f.nodes[0]!.rep().whenReady());
  await f.sim.run({ untilNs: f.sim.now() + 10e6 });
  if (listener === undefined) throw new Error('echo did not start');
  let finished = false;
  const s0 = f.sim.totalSlices;
  f.run(0, 0, () => {
    nmRef.deref().tcpConnect('10.0.0.2', 7, pingClient(wallNs, out, () => {
      finished = true;
      f.sim.stop();
    }, () => f.sim.now()));
  });
  await f.sim.run({ untilNs: f.sim.now() + 600e9 });
  if (!finished) throw new Error('lwip rtt did not complete');
  return { ...out, slicesPerRtt: (f.sim.totalSlices - s0) / (RTT_N + RTT_WARMUP) };
}

// ---------------------------------------------------------------- hosted stack (loopback)

/**
 * Sockets the hosted node left behind: a connection that was close()d (end, then destroy once
 * flushed) leaves the node's live set, so closeAll() no longer reaches it, and a half-closed
 * socket kept Node busy at 100% CPU after the bench (the harness never exited). Destroy them.
 */
const strays = new Set<Socket>();
function track(x: unknown): void {
  const server = (x as { server?: Server }).server;
  if (server !== undefined) server.on('connection', (s: Socket) => strays.add(s));
  const socket = (x as { socket?: Socket }).socket;
  if (socket !== undefined) strays.add(socket);
}

function hostedNode(): { em: EventManagerRoot; root: HostedNetworkManager; onCore<T>(core: number, fn: () => T | Promise<T>): Promise<T>; dispose(): void } {
  const node = new NodeContext({ id: 0, numCores: 2, target: 'hosted' });
  const log = (): void => {};
  const em = eventManagerManifest.create({ id: SystemEbbIds.EventManager, node, target: 'hosted', log }, eventManagerManifest.options!.parse({})) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, em);
  const root = hostedManifest.create({ id: SystemEbbIds.NetworkManager, node, target: 'hosted', log }, hostedNetworkOptionsSchema.parse({})) as HostedNetworkManager;
  node.install(SystemEbbIds.NetworkManager, root);
  return {
    em,
    root,
    onCore: <T>(core: number, fn: () => T | Promise<T>) =>
      new Promise<T>((resolve, reject) => em.post(core, async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        }
      })),
    dispose() {
      root.closeAll();
      for (const s of strays) s.destroy();
      strays.clear();
      em.shutdown();
    },
  };
}

export async function hostedBulk(): Promise<{ wallS: number }> {
  const h = hostedNode();
  try {
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let tEnd = 0;
    const listener = await h.onCore(1, async () => {
      const l = nmRef.deref().tcpListen(0, sink(BULK_BYTES, () => {
        tEnd = performance.now();
        resolveDone();
      }));
      track(l);
      await l.listening;
      return l;
    });
    const t0 = performance.now();
    sinkClosed = 0;
    await h.onCore(0, () => {
      track(nmRef.deref().tcpConnect('127.0.0.1', listener.port, bulkSender(BULK_BYTES, (c) => c.close())));
    });
    await done;
    const closedBefore = sinkClosed;
    await settle(() => sinkClosed > closedBefore);
    await h.onCore(1, () => listener.close());
    return { wallS: (tEnd - t0) / 1000 };
  } finally {
    h.dispose();
  }
}

export async function hostedRtt(): Promise<{ wall: number[] }> {
  const h = hostedNode();
  try {
    const out = { wall: [] as number[], virt: [] as number[] };
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const stats = newEchoStats();
    const listener = await h.onCore(1, () => startEcho(nmRef.deref(), 0, stats));
    track(listener);
    await h.onCore(0, () => {
      track(nmRef.deref().tcpConnect('127.0.0.1', listener.port, pingClient(wallNs, out, resolveDone)));
    });
    await done;
    // Let the echo side see the FIN and close before the node is torn down: disposing the node
    // with that close still in flight leaves Node spinning at 100% CPU (see the report).
    await settle(() => stats.closed === 1);
    await h.onCore(1, () => listener.close());
    return out;
  } finally {
    h.dispose();
  }
}

// ---------------------------------------------------------------- plain node:net baseline

async function listenPlain(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

export async function plainBulk(): Promise<{ wallS: number; cpuS: number }> {
  let tEnd = 0;
  let cpuS = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const { server, port } = await listenPlain((s) => {
    let got = 0;
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got === BULK_BYTES) {
        tEnd = performance.now();
        cpuS = cpuSince(c0);
        resolveDone();
      }
    });
    s.on('end', () => s.end());
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const c = connect({ port, host: '127.0.0.1', noDelay: true });
  let sent = 0;
  const pump = (): void => {
    while (sent < BULK_BYTES) {
      const n = Math.min(CHUNK, BULK_BYTES - sent);
      sent += n;
      // A fresh copy per chunk, as the NetworkManager senders do with IOBuf.copyOf.
      if (!c.write(Buffer.from(n === CHUNK ? chunk : chunk.subarray(0, n)))) return;
    }
    c.end();
  };
  c.on('connect', pump);
  c.on('drain', pump);
  await done;
  c.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { wallS: (tEnd - t0) / 1000, cpuS };
}

export async function plainRtt(): Promise<{ wall: number[] }> {
  const { server, port } = await listenPlain((s) => {
    s.on('data', (b: Buffer) => s.write(b));
    s.on('end', () => s.end());
  });
  const c = connect({ port, host: '127.0.0.1', noDelay: true });
  const wall: number[] = [];
  let got = 0;
  let i = 0;
  let t0 = 0;
  const ping = (): void => {
    t0 = wallNs();
    c.write(Buffer.from(msg));
  };
  await new Promise<void>((resolve) => {
    c.on('connect', ping);
    c.on('data', (b: Buffer) => {
      got += b.length;
      if (got < MSG) return;
      got -= MSG;
      if (i >= RTT_WARMUP) wall.push(wallNs() - t0);
      i++;
      if (i < RTT_WARMUP + RTT_N) ping();
      else resolve();
    });
  });
  c.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { wall };
}

// ---------------------------------------------------------------- report

function bulkResult(name: string, wallS: number[], virtS?: number[]): BenchResult {
  const w = median(wallS);
  const r: BenchResult = {
    name,
    medianNs: w * 1e9,
    wallGbps: (BULK_BYTES * 8) / w / 1e9,
    wallMBps: BULK_BYTES / w / MB,
    runs: wallS.length,
  };
  if (virtS !== undefined) r.virtGbps = (BULK_BYTES * 8) / median(virtS) / 1e9;
  return r;
}

function rttResult(name: string, wallNsSamples: number[], virtNsSamples?: number[]): BenchResult {
  const w = [...wallNsSamples].sort((a, b) => a - b);
  const r: BenchResult = {
    name,
    medianNs: quantile(w, 0.5),
    p99Ns: quantile(w, 0.99),
    wallUs: quantile(w, 0.5) / 1000,
    wallP99Us: quantile(w, 0.99) / 1000,
    n: w.length,
  };
  if (virtNsSamples !== undefined && virtNsSamples.length > 0) {
    const v = [...virtNsSamples].sort((a, b) => a - b);
    r.virtUs = quantile(v, 0.5) / 1000;
    r.virtP99Us = quantile(v, 0.99) / 1000;
  }
  return r;
}

export default async function run(): Promise<BenchReport> {
  const lw: number[] = [];
  const lv: number[] = [];
  // CPU seconds per transfer: what the wall ratio means on a shared machine, where other
  // processes' load stretches wall time (node:net's kernel loopback work counts as its sys time).
  const lc: number[] = [];
  const pc: number[] = [];
  const mw: number[] = [];
  let bulkSlices = 0;
  const hw: number[] = [];
  const pw: number[] = [];
  const jw: number[] = [];
  const jv: number[] = [];
  const jc: number[] = [];
  let rtx = 0;
  for (let i = 0; i < BULK_WARMUP; i++) {
    await lwipBulk();
    await lwipBulk('chained', JUMBO_MTU);
    await lwipBulk('macrotask');
    await hostedBulk();
    await plainBulk();
  }
  // Interleaved so drift hits all three alike.
  for (let i = 0; i < BULK_RUNS; i++) {
    const l = await lwipBulk();
    lw.push(l.wallS);
    lc.push(l.cpuS);
    lv.push(l.virtS);
    bulkSlices = l.slices;
    mw.push((await lwipBulk('macrotask')).wallS);
    const j = await lwipBulk('chained', JUMBO_MTU);
    jw.push(j.wallS);
    jv.push(j.virtS);
    jc.push(j.cpuS);
    rtx += l.stats.retransmits! + l.stats.fastRetransmits!;
    hw.push((await hostedBulk()).wallS);
    const p = await plainBulk();
    pw.push(p.wallS);
    pc.push(p.cpuS);
  }
  const lr = await lwipRtt();
  const mr = await lwipRtt('macrotask');
  const hr = await hostedRtt();
  const pr = await plainRtt();

  const results = [
    { ...bulkResult(`bulk ${BULK_MB} MB lwip sim->sim`, lw, lv), cpuMs: median(lc) * 1000 },
    bulkResult(`bulk ${BULK_MB} MB hosted loopback`, hw),
    { ...bulkResult(`bulk ${BULK_MB} MB node:net loopback`, pw), cpuMs: median(pc) * 1000 },
    rttResult(`rtt ${MSG} B lwip sim<->sim`, lr.wall, lr.virt),
    rttResult(`rtt ${MSG} B hosted loopback`, hr.wall),
    rttResult(`rtt ${MSG} B node:net loopback`, pr.wall),
    bulkResult(`bulk ${BULK_MB} MB lwip sim->sim, macrotask stepping`, mw),
    rttResult(`rtt ${MSG} B lwip sim<->sim, macrotask stepping`, mr.wall, mr.virt),
    { ...bulkResult(`bulk ${BULK_MB} MB lwip sim->sim, MTU ${JUMBO_MTU}`, jw, jv), cpuMs: median(jc) * 1000 },
  ];
  const g = (i: number): number => results[i]!.wallGbps as number;
  const ratios: Record<string, number> = {
    'lwip/hosted bulk wall throughput': g(0) / g(1),
    'lwip/node:net bulk wall throughput': g(0) / g(2),
    'hosted/node:net bulk wall throughput': g(1) / g(2),
    'lwip/node:net bulk CPU throughput (inverse CPU s per transfer)': median(pc) / median(lc),
    'lwip/hosted rtt wall median': results[3]!.medianNs / results[4]!.medianNs,
    'lwip/node:net rtt wall median': results[3]!.medianNs / results[5]!.medianNs,
    'hosted/node:net rtt wall median': results[4]!.medianNs / results[5]!.medianNs,
    // Item 8: the same transfers with every scheduler step a macrotask of its own (the old stepping).
    'lwip macrotask-stepping/node:net bulk wall throughput': g(6) / g(2),
    'lwip macrotask-stepping/node:net rtt wall median': results[7]!.medianNs / results[5]!.medianNs,
    'lwip chained/macrotask stepping bulk wall throughput': g(0) / g(6),
    'lwip chained/macrotask stepping rtt wall median': results[3]!.medianNs / results[7]!.medianNs,
    // Larger segments where the MTU allows (node:net's loopback has MTU 65536): per-segment costs shrink.
    [`lwip MTU ${JUMBO_MTU}/node:net bulk wall throughput`]: g(8) / g(2),
    [`lwip MTU ${JUMBO_MTU}/node:net bulk CPU throughput (inverse CPU s per transfer)`]: median(pc) / median(jc),
  };
  const notes = [
    `bulk: ${BULK_MB} MB one way in 64 KiB chunks (IOBuf.copyOf / Buffer copy per chunk), median of ${BULK_RUNS} after ${BULK_WARMUP} untimed warm-up transfers of each case; lwip: two simulated nodes, 10 µs link latency, no loss, ${rtx} retransmissions in all runs; medianNs = wall time of one transfer`,
    `stepping: lwip rows run chained (steps back to back in one macrotask, job queues drained between them) unless marked macrotask (one setImmediate per step, 32 queued at once); ${bulkSlices} core slices per bulk transfer, ${lr.slicesPerRtt.toFixed(1)} per round trip`,
    `rtt: ${RTT_N} round trips of ${MSG} B after ${RTT_WARMUP} warm-up; responder = startEcho (test/echo-app.ts) for lwip and hosted, a socket.write echo for node:net`,
    'where lwip bulk wall time goes: a full-size segment costs a few µs of wall time across both nodes (TX path, virtio TX, switch, link, virtio RX, RX path, an ACK every second segment); after the per-frame work (no BigInts, closures or copies per descriptor, slab-carved TX frames, numeric TCP demux, a lazy leak registry for SLQB IOBufs, 32-bit checksum loads, a heap payload copied into its header buffer) no single hot spot is left: GC, TCP, the device model and IOBuf views each take 5-15% of a profile',
    `cpuMs: CPU time (user + system, all threads) of the process during one transfer, median; the CPU ratio is less stretched by other processes' load than the wall ratio (node:net's figure counts the kernel's loopback work done in this process's syscalls) (load average at the end: ${loadavg()[0]!.toFixed(1)})`,
    'hosted bench teardown: disposing a hosted node (closeAll + EventManager shutdown) while a connection close is still in flight left the process spinning at 100% CPU with no syscalls (pnpm bench never exited); the bench therefore waits for the server side to see the FIN and closes the listener first, and destroys the node:net sockets it tracked',
  ];
  return { name: 'TCP: native lwIP stack (simulated) vs hosted vs node:net', results, ratios, notes };
}
