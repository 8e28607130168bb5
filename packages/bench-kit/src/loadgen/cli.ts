/**
 * The load generator from a shell, for measuring one server by hand:
 *
 *   node --import tsx packages/bench-kit/src/loadgen/cli.ts --server 127.0.0.1:11211 --rate 20000
 *   ... --closed                      closed loop (one request in flight per connection): the peak
 *   ... --search 500                  the highest rate with p99 under 500 µs (from the closed-loop peak)
 *
 * Options: --connections N (64), --seconds S (2), --warmup S (0.5), --key-bytes (16),
 * --value-bytes (32), --get-ratio (0.9), --keys (10000), --arrivals poisson|uniform, --seed,
 * --spin (a setImmediate loop instead of the pacer thread), --realtime P (SCHED_FIFO P while it runs, root).
 * Prints one JSON object per measurement (latencies in ns).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadMode, LoadResult } from './engine.js';
import { searchMaxRate } from './rate-search.js';
import { runTcpLoad } from './tcp-client.js';

function positive(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export async function main(argv: readonly string[]): Promise<LoadResult[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      server: { type: 'string' },
      rate: { type: 'string' },
      closed: { type: 'boolean' },
      search: { type: 'string' },
      connections: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      'key-bytes': { type: 'string' },
      'value-bytes': { type: 'string' },
      'get-ratio': { type: 'string' },
      keys: { type: 'string' },
      arrivals: { type: 'string' },
      seed: { type: 'string' },
      spin: { type: 'boolean' },
      realtime: { type: 'string' },
    },
    strict: true,
  });
  const m = /^([^:]+):(\d+)$/.exec(values.server ?? '');
  if (m === null) throw new Error(`--server host:port is required, got ${JSON.stringify(values.server)}`);
  const arrivals = values.arrivals ?? 'poisson';
  if (arrivals !== 'poisson' && arrivals !== 'uniform') throw new Error(`--arrivals must be poisson or uniform, got ${arrivals}`);
  const getRatio = values['get-ratio'] === undefined ? 0.9 : Number(values['get-ratio']);
  const base = {
    host: m[1]!,
    port: Number(m[2]),
    connections: positive('connections', values.connections, 64),
    pacing: values.spin === true ? ('spin' as const) : ('pacer' as const),
    ...(values.realtime !== undefined ? { realtime: positive('realtime', values.realtime, 1) } : {}),
    durationNs: positive('seconds', values.seconds, 2) * 1e9,
    warmupNs: positive('warmup', values.warmup, 0.5) * 1e9,
    workload: {
      keyBytes: positive('key-bytes', values['key-bytes'], 16),
      valueBytes: values['value-bytes'] === undefined ? 32 : Number(values['value-bytes']),
      getRatio,
      keys: positive('keys', values.keys, 10_000),
      seed: values.seed === undefined ? 1 : Number(values.seed),
    },
  };
  const results: LoadResult[] = [];
  const run = async (mode: LoadMode): Promise<LoadResult> => {
    const r = await runTcpLoad({ ...base, mode });
    console.log(JSON.stringify(r));
    results.push(r);
    return r;
  };
  if (values.search !== undefined) {
    const slaNs = positive('search', values.search, 500) * 1000;
    const peak = (await run({ kind: 'closed' })).achievedOpsPerSec;
    const s = await searchMaxRate(
      async (rate) => {
        const r = await run({ kind: 'open', rate, arrivals });
        return { rate, p99Ns: r.p99Ns, ok: r.p99Ns < slaNs && r.unanswered === 0 && r.errors.length === 0 };
      },
      { lo: peak * 0.05, hi: peak * 1.1 },
    );
    console.log(JSON.stringify({ peakOpsPerSec: peak, slaUs: slaNs / 1000, bestRate: s.bestRate }));
  } else if (values.closed === true || values.rate === undefined) {
    await run({ kind: 'closed' });
  } else {
    await run({ kind: 'open', rate: positive('rate', values.rate, 1), arrivals });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
