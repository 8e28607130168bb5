/**
 * The load generator over node:net: `connections` TCP connections to a memcached-protocol server,
 * driven by a LoadEngine from this process's event loop. Between requests the loop sleeps and a
 * Pacer (pacer.ts) wakes it when the next one is due (a timer's 1 ms granularity would batch
 * sends into bursts, and the SLA is 500 µs); `pacing: 'spin'` spins on `setImmediate` instead,
 * which keeps a core busy. Replies wake the loop as usual, and due requests go out from there too.
 */
import { connect, type Socket } from 'node:net';
import { LoadEngine, type EngineOptions, type LoadResult } from './engine.js';
import { Pacer } from './pacer.js';
import { SpinRation } from './spin-ration.js';

export interface TcpLoadOptions extends EngineOptions {
  host: string;
  port: number;
  /** Give up connecting or filling after this long (default 10 s). */
  setupTimeoutMs?: number;
  /** 'pacer' (default): sleep until the next request is due; 'spin': a setImmediate loop. */
  pacing?: 'pacer' | 'spin';
  /** Pacer: wake this long before a request is due and spin the rest, at most 30 % of the time (default 200 µs; 60 µs with realtime). */
  spinNs?: number;
  /**
   * SCHED_FIFO priority (1-99, via `chrt`, needs root) for the generator's threads while it runs,
   * so a loaded machine cannot delay its sends by a time slice. Pacer only. If it cannot be set,
   * the result's `realtimeError` says why and the run goes on without it.
   */
  realtime?: number;
}

const nowNs = (): number => performance.now() * 1e6;
/**
 * How early the pacer wakes the loop, which then spins until the request is due (rationed by
 * SpinRation): without realtime, 200 µs (a normal thread's wake-up is late by ~80 µs median,
 * ~300 µs p99 on a loaded machine); with realtime, 60 µs (its wake-up is ~35 µs late).
 */
const SPIN_NS_NORMAL = 200_000;
const SPIN_NS_REALTIME = 60_000;

/** Connects, fills the key space, runs one open- or closed-loop measurement, closes. */
export interface TcpLoadResult extends LoadResult {
  /** The generator's process CPU (user + sys, every thread) during the window, per request of it. */
  cpuNsPerRequest: number;
  realtimeError?: string;
}

/**
 * The generator's process CPU over the measured window: snapshots when a pump first sees the
 * window open and close (a pump runs at least every ms), divided by the window's requests.
 */
class WindowCpu {
  private at: NodeJS.CpuUsage | undefined;
  private usedUs = Number.NaN;
  constructor(private readonly engine: LoadEngine) {}
  tick(now: number): void {
    const w = this.engine.windowNs;
    if (this.at === undefined && now >= w.startNs) this.at = process.cpuUsage();
    else if (this.at !== undefined && Number.isNaN(this.usedUs) && now >= w.endNs) {
      const d = process.cpuUsage(this.at);
      this.usedUs = d.user + d.system;
    }
  }
  result(r: LoadResult): TcpLoadResult {
    return { ...r, cpuNsPerRequest: (this.usedUs * 1000) / Math.max(1, r.requests) };
  }
}

export async function runTcpLoad(o: TcpLoadOptions): Promise<TcpLoadResult> {
  const engine = new LoadEngine({ clock: nowNs, ...o });
  const sockets: Socket[] = [];
  const setupMs = o.setupTimeoutMs ?? 10_000;
  let pacerRef: Pacer | undefined;
  try {
    await withTimeout(
      Promise.all(
        Array.from({ length: o.connections }, (_, i) =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ host: o.host, port: o.port, noDelay: true }, () => {
              engine.attach(i, { write: (buf, len) => void s.write(Buffer.copyBytesFrom(buf, 0, len)) });
              resolve();
            });
            sockets.push(s);
            s.on('data', (d: Buffer) => engine.receive(i, d, 0, d.length, nowNs()));
            s.once('error', (e) => {
              engine.connectionLost(i, e.message);
              reject(new Error(`connection ${i} to ${o.host}:${o.port}: ${e.message}`));
            });
            s.once('close', () => engine.connectionLost(i, 'closed by the server'));
          }),
        ),
      ),
      setupMs,
      `connecting ${o.connections} connections to ${o.host}:${o.port}`,
    );
    await withTimeout(new Promise<void>((resolve) => engine.fill(nowNs(), resolve)), setupMs, `filling ${engine.workload.options.keys} keys`);
    if (engine.done) return { ...engine.result(), cpuNsPerRequest: Number.NaN };
    if (o.pacing === 'spin') {
      const cpu = new WindowCpu(engine);
      engine.start(nowNs());
      await new Promise<void>((resolve) => {
        const spin = (): void => {
          const now = nowNs();
          cpu.tick(now);
          if (engine.pump(now)) setImmediate(spin);
          else resolve();
        };
        setImmediate(spin);
      });
      return cpu.result(engine.result());
    }
    let finished: () => void = () => undefined;
    const over = new Promise<void>((r) => (finished = r));
    // The pacer's wake-up costs tens of µs (a futex timeout, a message, epoll): it wakes the loop
    // spinNs early and the loop spins the rest, so sends are on time and a core spins only then.
    const ration = new SpinRation({ spinNs: o.spinNs ?? (o.realtime !== undefined ? SPIN_NS_REALTIME : SPIN_NS_NORMAL) });
    let spinQueued = false;
    const cpu = new WindowCpu(engine);
    const pump = (): void => {
      const now = nowNs();
      cpu.tick(now);
      if (!engine.pump(now)) return finished();
      const d = ration.decide(now, engine.nextDueNs());
      if (d.kind === 'sleep') pacer.arm(d.untilNs / 1e6);
      else if (!spinQueued) {
        // One spin chain at most, whoever (pacer, backstop, the chain itself) pumped.
        spinQueued = true;
        setImmediate(spinStep);
      }
    };
    const spinStep = (): void => {
      spinQueued = false;
      pump();
    };
    const pacer = new Pacer({ onWake: pump, ...(o.realtime !== undefined ? { realtime: o.realtime } : {}) });
    pacerRef = pacer;
    await pacer.ready;
    // A backstop: the drain phase has no deadline to arm, and a lost wake-up costs at most 1 ms.
    const backstop = setInterval(pump, 1);
    try {
      engine.start(nowNs());
      pump();
      await over;
    } finally {
      clearInterval(backstop);
    }
    return { ...cpu.result(engine.result()), ...(pacer.realtimeError !== undefined ? { realtimeError: pacer.realtimeError } : {}) };
  } finally {
    await pacerRef?.stop();
    for (const s of sockets) {
      s.removeAllListeners('close');
      s.on('error', () => undefined);
      s.destroy();
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
