/**
 * The load generator over node:net: `connections` TCP connections to a memcached-protocol server,
 * driven by a LoadEngine from this process's event loop. The loop spins on `setImmediate` while
 * a run lasts (a timer's 1 ms granularity would batch sends into bursts, and the SLA is 500 µs),
 * so the generator keeps one core busy: on a small machine it competes with the server, which
 * the report of every run should say.
 */
import { connect, type Socket } from 'node:net';
import { LoadEngine, type EngineOptions, type LoadResult } from './engine.js';

export interface TcpLoadOptions extends EngineOptions {
  host: string;
  port: number;
  /** Give up connecting or filling after this long (default 10 s). */
  setupTimeoutMs?: number;
}

const nowNs = (): number => performance.now() * 1e6;

/** Connects, fills the key space, runs one open- or closed-loop measurement, closes. */
export async function runTcpLoad(o: TcpLoadOptions): Promise<LoadResult> {
  const engine = new LoadEngine(o);
  const sockets: Socket[] = [];
  const setupMs = o.setupTimeoutMs ?? 10_000;
  try {
    await withTimeout(
      Promise.all(
        Array.from({ length: o.connections }, (_, i) =>
          new Promise<void>((resolve, reject) => {
            const s = connect({ host: o.host, port: o.port, noDelay: true }, () => {
              engine.attach(i, { write: (buf, len) => void s.write(Buffer.from(buf.subarray(0, len))) });
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
    if (engine.done) return engine.result();
    engine.start(nowNs());
    await new Promise<void>((resolve) => {
      const spin = (): void => {
        if (engine.pump(nowNs())) setImmediate(spin);
        else resolve();
      };
      setImmediate(spin);
    });
    return engine.result();
  } finally {
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
