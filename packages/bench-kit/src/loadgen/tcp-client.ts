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

export interface TcpLoadOptions extends EngineOptions {
  host: string;
  port: number;
  /** Give up connecting or filling after this long (default 10 s). */
  setupTimeoutMs?: number;
  /** 'pacer' (default): sleep until the next request is due; 'spin': a setImmediate loop. */
  pacing?: 'pacer' | 'spin';
  /**
   * SCHED_FIFO priority (1-99, via `chrt`, needs root) for the generator's threads while it runs,
   * so a loaded machine cannot delay its sends by a time slice. Pacer only. If it cannot be set,
   * the result's `realtimeError` says why and the run goes on without it.
   */
  realtime?: number;
}

const nowNs = (): number => performance.now() * 1e6;
/** How early the pacer wakes the loop, which then spins until the request is due. */
const SPIN_NS = 200_000;

/** Connects, fills the key space, runs one open- or closed-loop measurement, closes. */
export interface TcpLoadResult extends LoadResult {
  /** The generator's process CPU (user + sys, every thread) from start to done, per request sent. */
  cpuNsPerRequest: number;
  realtimeError?: string;
}

/** Adds the generator's CPU per request since `from` (the warm-up and drain included, as sent). */
function withCpu(r: LoadResult, from: NodeJS.CpuUsage): TcpLoadResult {
  const d = process.cpuUsage(from);
  return { ...r, cpuNsPerRequest: ((d.user + d.system) * 1000) / Math.max(1, r.sent) };
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
      const cpu0 = process.cpuUsage();
      engine.start(nowNs());
      await new Promise<void>((resolve) => {
        const spin = (): void => {
          if (engine.pump(nowNs())) setImmediate(spin);
          else resolve();
        };
        setImmediate(spin);
      });
      return withCpu(engine.result(), cpu0);
    }
    let finished: () => void = () => undefined;
    const over = new Promise<void>((r) => (finished = r));
    // The pacer's wake-up costs tens of µs (a futex timeout, a message, epoll): it wakes the loop
    // SPIN_NS early and the loop spins the rest, so sends are on time and a core spins only then.
    let spinQueued = false;
    const pump = (): void => {
      const now = nowNs();
      if (!engine.pump(now)) return finished();
      const next = engine.nextDueNs();
      if (Number.isNaN(next)) pacer.arm(Number.NaN);
      else if (next - now > SPIN_NS) pacer.arm((next - SPIN_NS) / 1e6);
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
    const cpu0 = process.cpuUsage();
    try {
      engine.start(nowNs());
      pump();
      await over;
    } finally {
      clearInterval(backstop);
    }
    return { ...withCpu(engine.result(), cpu0), ...(pacer.realtimeError !== undefined ? { realtimeError: pacer.realtimeError } : {}) };
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
