/**
 * The etcd GlobalIdMap against a local etcd (started here on loopback, like the tests), side by
 * side with an in-memory Map-backed GlobalIdMap installed the same way on the same hosted node:
 * get and set, sequential (one in flight) and with 32 in flight, from an event on core 0.
 * medianNs is wall time per operation (median of RUNS runs of N operations), opsPerSec its
 * inverse; for the sequential cases p99Ns is the per-operation latency. Ratios are etcd/map
 * time per op. Skipped with a note when there is no etcd binary; timings never fail the run.
 */
import { SystemEbbIds, type CoreInfo, type EbbRoot, type GlobalIdMap } from '@ebbrt/interfaces';
import { median, quantileOf, type BenchReport, type BenchResult } from '@ebbrt/bench-kit';
import { EtcdServer, etcdBinary, etcdMissingReason } from '@ebbrt/testkit/etcd-server';
import { hostedNode, type HostedFixture } from '../test/fixture.js';

const N = Number(process.env['EBBRT_BENCH_ETCD_N'] ?? 2000);
const MAP_N = 200_000;
const RUNS = Number(process.env['EBBRT_BENCH_ETCD_RUNS'] ?? 5);
const WINDOW = 32;
const KEYS = 1024;
const VALUE = 'v'.repeat(64);

/** The baseline: the same interface over a Map, one shared rep per node. */
class MapGlobalIdMap implements GlobalIdMap, EbbRoot<GlobalIdMap> {
  private readonly map = new Map<number, string>();
  handleFault(_core: CoreInfo): GlobalIdMap {
    return this;
  }
  async get(id: number): Promise<string | undefined> {
    return this.map.get(id);
  }
  async set(id: number, data: string): Promise<void> {
    this.map.set(id, data);
  }
}

type Op = 'get' | 'set';

/** `n` operations from one event on core 0 with `window` in flight; per-op latencies if sequential. */
async function runOnce(fe: HostedFixture, op: Op, n: number, window: number): Promise<{ totalNs: number; latencies: number[] }> {
  return fe.onCore(0, async () => {
    const map = fe.map() as GlobalIdMap;
    const latencies: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const id = 0x10000 + (i % KEYS);
        const t0 = window === 1 ? process.hrtime.bigint() : 0n;
        if (op === 'set') await map.set(id, VALUE);
        else await map.get(id);
        if (window === 1) latencies.push(Number(process.hrtime.bigint() - t0));
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: window }, worker));
    return { totalNs: Number(process.hrtime.bigint() - t0), latencies };
  });
}


async function measureCase(name: string, fe: HostedFixture, op: Op, n: number, window: number): Promise<BenchResult> {
  await runOnce(fe, op, Math.min(n, 200), window); // warm up (connections, JIT)
  const perOp: number[] = [];
  const lat: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { totalNs, latencies } = await runOnce(fe, op, n, window);
    perOp.push(totalNs / n);
    for (const l of latencies) lat.push(l);
  }
  const medianNs = median(perOp);
  return { name, medianNs, ...(lat.length > 0 ? { p99Ns: quantileOf(lat, 0.99) } : {}), opsPerSec: 1e9 / medianNs, ops: n, runs: RUNS };
}

export default async function run(): Promise<BenchReport> {
  const report: BenchReport = { name: 'global-id-map-etcd: etcd vs in-memory Map GlobalIdMap (hosted node)', results: [], ratios: {}, notes: [] };
  if (etcdBinary === undefined) {
    report.notes!.push(`skipped: ${etcdMissingReason}`);
    return report;
  }
  const etcd = await EtcdServer.launch();
  let etcdNode: HostedFixture | undefined;
  let mapNode: HostedFixture | undefined;
  try {
    etcdNode = hostedNode({ endpoints: [etcd.url], namespace: `bench-${process.pid}` }, 1);
    mapNode = hostedNode(null, 1, 1);
    mapNode.node.install(SystemEbbIds.GlobalIdMap, new MapGlobalIdMap());
    // Every get hits an existing key.
    await runOnce(etcdNode, 'set', KEYS, WINDOW);
    await runOnce(mapNode, 'set', KEYS, 1);
    for (const op of ['set', 'get'] as const) {
      for (const window of [1, WINDOW]) {
        const tag = window === 1 ? 'seq' : `${WINDOW}-in-flight`;
        const e = await measureCase(`etcd ${op} ${tag}`, etcdNode, op, N, window);
        const m = await measureCase(`map ${op} ${tag}`, mapNode, op, MAP_N, window);
        report.results.push(e, m);
        report.ratios[`etcd/map ${op} ${tag}`] = e.medianNs / m.medianNs;
      }
    }
    for (const op of ['set', 'get']) {
      const seq = report.results.find((r) => r.name === `etcd ${op} seq`)!;
      const par = report.results.find((r) => r.name === `etcd ${op} ${WINDOW}-in-flight`)!;
      report.ratios[`etcd ${op} seq/${WINDOW}-in-flight`] = seq.medianNs / par.medianNs;
    }
    report.notes!.push(
      `etcd ${etcdBinary} on ${etcd.url} (one member, loopback, fsync on); ${N} ops x ${RUNS} runs per etcd case, ${MAP_N} per map case; 64 B values over ${KEYS} keys`,
      'etcd/map ratios are time per op (how many times slower etcd is); seq/in-flight is the speed-up from pipelining',
    );
    return report;
  } finally {
    etcdNode?.dispose();
    mapNode?.dispose();
    await etcd.dispose();
  }
}
