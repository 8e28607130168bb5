/**
 * The playground's demo: node 1 is a key-value server, every other node a client that sets and
 * reads back keys over the Messenger (TCP over the simulated lwIP stack), one request in flight
 * per client. Link loss and latency come from the page's sliders; the trace digest is the
 * determinism check (same seed and settings: same digest, in Node and in a browser).
 */
import { EbbRef } from '@ebbrt/core-translation';
import { IOBuf, SystemEbbIds, type EbbId, type Messenger } from '@ebbrt/interfaces';
import { sha256Hex } from './digest.js';
import { takeSnapshot, type LiveSnapshot } from './live-view.js';
import { createWorld, type World } from './world.js';

export const KV_EBB = 0x9100 as EbbId;
const SET = 1;
const GET = 2;
const REPLY = 3;

export interface KvDemoOptions {
  seed: number;
  /** Nodes in all (node 1 serves). Default 3. */
  nodes?: number;
  cores?: number;
  /** Frame loss probability on every link, 0..0.5. */
  loss?: number;
  /** One-way latency of every link in ns. */
  latencyNs?: number;
  /** Operations per client (alternating SET and GET). Default 20. */
  operations?: number;
  /** Virtual time limit. Default 20 s. */
  limitNs?: number;
  /** Virtual ns between snapshots. Default 2 ms. */
  snapshotEveryNs?: number;
  onSnapshot?: (s: LiveSnapshot) => void;
}

export interface KvDemoResult {
  digest: string;
  completed: number;
  expected: number;
  mismatches: number;
  finalTimeNs: number;
  traceEvents: number;
  /** The Chrome trace JSON the digest covers (with the summary line after it). */
  trace: string;
  snapshot: LiveSnapshot;
}

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);
const text = new TextDecoder();

function read(m: IOBuf): string {
  const flat = m.coalesce();
  const s = text.decode(flat.data());
  flat.releaseChain();
  m.releaseChain();
  return s;
}

export async function runKvDemo(o: KvDemoOptions): Promise<KvDemoResult> {
  const loss = o.loss ?? 0;
  if (!(loss >= 0 && loss <= 0.5)) throw new RangeError(`loss must be in 0..0.5, got ${String(o.loss)}`);
  const latencyNs = o.latencyNs ?? 10_000;
  if (!Number.isInteger(latencyNs) || latencyNs < 0 || latencyNs > 1e9) throw new RangeError(`latencyNs must be an integer in 0..1e9, got ${String(o.latencyNs)}`);
  const operations = o.operations ?? 20;
  const world: World = await createWorld({ seed: o.seed, nodes: o.nodes ?? 3, cores: o.cores ?? 2, link: { loss, latencyNs } });
  const { sim, nodes } = world;
  const clients = nodes.length - 1;
  const expected = clients * operations;
  let completed = 0;
  let mismatches = 0;
  let ready = 0;

  const server = new Map<string, string>();
  nodes[0]!.post(0, () => {
    messengerRef.deref().register(KV_EBB, (from, type, m) => {
      const req = read(m);
      let reply = '';
      if (type === SET) {
        const eq = req.indexOf('=');
        server.set(req.slice(0, eq), req.slice(eq + 1));
        reply = 'OK';
      } else if (type === GET) reply = server.get(req) ?? '(missing)';
      void messengerRef.deref().send(from, KV_EBB, REPLY, IOBuf.copyOf(reply));
    });
  });
  let failed: Error | undefined;
  for (const n of nodes) {
    if (n.nm.whenReady === undefined) ready++;
    else n.nm.whenReady(() => void ready++, (e) => void (failed = e));
  }
  for (let c = 1; c <= clients; c++) {
    const client = nodes[c]!;
    let op = 0;
    const issue = (): void => {
      const key = `n${client.node.id}k${op >> 1}`;
      const value = `v${op >> 1}@${client.node.id}`;
      const isSet = (op & 1) === 0;
      void messengerRef.deref().send(1, KV_EBB, isSet ? SET : GET, IOBuf.copyOf(isSet ? `${key}=${value}` : key));
    };
    client.post(0, () => {
      messengerRef.deref().register(KV_EBB, (_from, type, m) => {
        const reply = read(m);
        if (type !== REPLY) return;
        const isSet = (op & 1) === 0;
        const want = isSet ? 'OK' : `v${op >> 1}@${client.node.id}`;
        if (reply !== want) mismatches++;
        completed++;
        op++;
        if (op < operations) issue();
      });
    });
    const start = (): void => {
      if (ready < nodes.length) return void sim.scheduleAfter(1_000_000, () => client.post(0, start));
      issue();
    };
    client.post(0, start);
  }

  const limit = o.limitNs ?? 20e9;
  const every = o.snapshotEveryNs ?? 2e6;
  while (completed < expected && sim.now() < limit && failed === undefined) {
    await sim.run({ untilNs: Math.min(limit, sim.now() + every) });
    o.onSnapshot?.(takeSnapshot(world));
  }
  if (failed !== undefined) throw new Error(`a node's network never came up: ${failed.message}`);
  const trace = sim.trace.toJSON();
  const summary = JSON.stringify({ completed, mismatches, timeNs: sim.now() });
  return {
    digest: await sha256Hex(trace + summary),
    completed,
    expected,
    mismatches,
    finalTimeNs: sim.now(),
    traceEvents: sim.trace.length,
    trace,
    snapshot: takeSnapshot(world),
  };
}
