/**
 * GlobalIdMap get/set throughput: on the home itself (the local table, a hosted node) versus from
 * another node over the Messenger, both between simulated nodes (lwIP stack over virtio-net,
 * home = node 1) and between hosted nodes over loopback; one at a time (sequential) and with 32
 * requests in flight. Wall clock, ops/s. Timings never fail the run.
 */
import { NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import { SystemEbbIds, type EbbRoot, type EventManagerRoot, type Timer } from '@ebbrt/interfaces';
import type { BenchReport, BenchResult } from '@ebbrt/bench-kit';
import { manifest } from '../src/index.js';
import { mapCluster, mapRef } from '../test/setup.js';

const N = Number(process.env.EBBRT_BENCH_GIM_N ?? 4000);
const N_LOCAL = Number(process.env.EBBRT_BENCH_GIM_LOCAL_N ?? 200_000);
const IN_FLIGHT = 32;

/** Runs `n` ops (`op(k)`), `depth` at a time; resolves with wall seconds. */
async function drive(n: number, depth: number, op: (k: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return (performance.now() - t0) / 1000;
}

function result(name: string, ops: number, seconds: number, extra: Record<string, unknown> = {}): BenchResult {
  return { name, medianNs: (seconds * 1e9) / ops, opsPerSec: Math.round(ops / seconds), ...extra };
}

export default async function run(): Promise<BenchReport> {
  const results: BenchResult[] = [];
  const ratios: Record<string, number> = {};
  const byName = new Map<string, BenchResult>();
  const add = (r: BenchResult): void => {
    results.push(r);
    byName.set(r.name, r);
  };

  // The home itself: a hosted front-end with the table.
  {
    const node = new NodeContext({ id: 0, numCores: 1, target: 'hosted' });
    const log = (): void => undefined;
    const em = eventManagerManifest.create({ id: SystemEbbIds.EventManager, node, target: 'hosted', log }, eventManagerManifest.options!.parse({})) as EventManagerRoot;
    node.install(SystemEbbIds.EventManager, em);
    node.install(SystemEbbIds.Timer, timerManifest.create({ id: SystemEbbIds.Timer, node, target: 'hosted', log }, {}) as EbbRoot<Timer>);
    node.install(SystemEbbIds.GlobalIdMap, manifest.create({ id: SystemEbbIds.GlobalIdMap, node, target: 'hosted', log }, manifest.options!.parse({})) as EbbRoot<unknown>);
    const on = (fn: () => Promise<number>) => new Promise<number>((resolve, reject) => em.post(0, () => fn().then(resolve, reject)));
    for (const depth of [1, IN_FLIGHT]) {
      const mode = depth === 1 ? 'sequential' : `${IN_FLIGHT} in flight`;
      await on(() => drive(2000, depth, (k) => mapRef.deref().set(0x10000 + (k % 1000), `value ${k}`))); // warm-up
      add(result(`local set, ${mode}`, N_LOCAL, await on(() => drive(N_LOCAL, depth, (k) => mapRef.deref().set(0x10000 + (k % 1000), `value ${k}`)))));
      add(result(`local get, ${mode}`, N_LOCAL, await on(() => drive(N_LOCAL, depth, (k) => mapRef.deref().get(0x10000 + (k % 1000))))));
    }
    em.shutdown();
  }

  for (const kind of ['native', 'hosted'] as const) {
    const c = await mapCluster(kind, { nodes: 2 });
    try {
      const virt = () => c.native?.sim.now() ?? 0;
      for (const depth of [1, IN_FLIGHT]) {
        const mode = depth === 1 ? 'sequential' : `${IN_FLIGHT} in flight`;
        await c.run(1, 0, () => drive(200, depth, (k) => mapRef.deref().set(0x20000 + (k % 1000), `value ${k}`))); // warm-up, opens the connection
        for (const op of ['set', 'get'] as const) {
          const v0 = virt();
          const s = await c.run(1, 0, () =>
            drive(N, depth, (k) => (op === 'set' ? mapRef.deref().set(0x20000 + (k % 1000), `value ${k}`) : mapRef.deref().get(0x20000 + (k % 1000)))),
            600e9,
          );
          const extra = kind === 'native' ? { virtualUsPerOp: Number(((virt() - v0) / 1e3 / N).toFixed(2)) } : {};
          add(result(`${kind === 'native' ? 'sim back-end' : 'hosted node'} ${op}, ${mode}`, N, s, extra));
        }
      }
      if (c.maps[1]!.stats().timeouts > 0) throw new Error('timeouts during the bench');
    } finally {
      await c.dispose();
    }
  }

  for (const op of ['set', 'get'] as const) {
    for (const mode of ['sequential', `${IN_FLIGHT} in flight`]) {
      const local = byName.get(`local ${op}, ${mode}`)!;
      ratios[`local/sim-remote ${op} ${mode} ops/s`] = local.opsPerSec! / byName.get(`sim back-end ${op}, ${mode}`)!.opsPerSec!;
      ratios[`local/hosted-remote ${op} ${mode} ops/s`] = local.opsPerSec! / byName.get(`hosted node ${op}, ${mode}`)!.opsPerSec!;
    }
    ratios[`sim-remote ${op} ${IN_FLIGHT}-in-flight/sequential ops/s`] =
      byName.get(`sim back-end ${op}, ${IN_FLIGHT} in flight`)!.opsPerSec! / byName.get(`sim back-end ${op}, sequential`)!.opsPerSec!;
  }
  return {
    name: 'global-id-map',
    results,
    ratios,
    notes: [
      `local: ${N_LOCAL} ops on the home's own table (a Map; promise per op); remote: ${N} ops from node 2 to the home over the Messenger (home = node 1 for simulated nodes, 10 µs-latency links, no loss; loopback for hosted)`,
      'sim figures are dominated by the simulated TCP/IP stack; virtualUsPerOp is simulated time per op (link latency bound when sequential)',
    ],
  };
}
