/**
 * The dashboard's snapshot collection (RunSnapshots) over the in-process platform: a node still
 * in the pool shows dormant (not allocated), a handed-out one allocated, a killed one dead with
 * its cause; each node's introspection (Ebb implementations, memory, NIC counters and drops, TCP
 * connections, Messenger traffic) reaches its card and the graph's edges, and rises with it.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '@ebbrt/hw-x86sim';
import { InProcessPlatform } from '@ebbrt/platform-in-process';
import type { AppConfig, IntrospectOptions, LocalNode, LocalNodeHost, ManagedPlatform, NodeIntrospection, NodeShape, PlatformNode } from '@ebbrt/interfaces';
import { RunSnapshots, tracePids } from '../src/cli/live-ui.js';

function host(sim: Simulation, sent: Map<number, number>): LocalNodeHost {
  return {
    async boot(id: number, shape: NodeShape): Promise<LocalNode> {
      const machine = sim.createMachine({ name: `node${id}`, cores: shape.cores, memoryBytes: shape.memoryBytes });
      const introspect = (): NodeIntrospection => {
        const n = sent.get(id) ?? 0;
        return {
          networkId: id,
          ebbs: [{ kind: 'MemoryAllocator', id: 5, packageName: `@acme/alloc-${id}` }],
          events: n * 3,
          memory: { totalBytes: shape.memoryBytes, freePageBytes: shape.memoryBytes - n * 4096, caches: [] },
          network: {
            nic: { rxFrames: n, txFrames: n },
            stack: { 'tcp.segmentsSent': n * 2 },
            drops: n > 0 ? { 'iface.ipBadChecksum': n } : {},
            connections: [{ localAddress: `10.0.0.${id}`, localPort: 7000, remoteAddress: '10.0.0.9', remotePort: 40000 + id, state: 'ESTABLISHED', core: 0, sendQueued: n, receiveQueued: 0 }],
          },
          messenger: { peers: [{ peer: id === 1 ? 2 : 1, messagesSent: n, bytesSent: n * 10, messagesReceived: 0, bytesReceived: 0 }], errors: {} },
        };
      };
      return { activate: async (_info, posted) => posted(), powerOff: () => machine.powerOff(), release: () => sim.destroyMachine(machine), introspect };
    },
  };
}

/** A node that runs elsewhere (its own process): a live, activated node with 2 cores, answering with `introspect`. */
function remoteNode(networkId: number, introspect: (o?: IntrospectOptions) => Promise<NodeIntrospection>): PlatformNode {
  return {
    networkId,
    shape: { cores: 2, memoryBytes: 1 << 20 },
    died: new Promise<Error>(() => undefined),
    activated: true,
    // Already activated: the snapshot code only reads it.
    activate: () => Promise.reject(new Error(`node ${networkId} is already active`)),
    destroy: async () => undefined,
    kill: () => undefined,
    introspect,
  };
}

/** A platform holding `nodes` only (it boots none). */
function platformOf(...nodes: PlatformNode[]): ManagedPlatform {
  return {
    kind: 'remote-test',
    boot: () => Promise.reject(new Error('remote-test platform: boots no node')),
    liveNodes: nodes,
    node: (id: number) => nodes.find((n) => n.networkId === id),
    onActivated: () => undefined,
  };
}

describe('RunSnapshots', () => {
  it('dormant, allocated and dead nodes, with their introspected data rising', async () => {
    const sim = new Simulation({ seed: 1 });
    const sent = new Map<number, number>();
    const platform = new InProcessPlatform(host(sim, sent));
    const shape = { cores: 2, memoryBytes: 1 << 20 };
    const a = await platform.boot(shape);
    const b = await platform.boot(shape);
    const pooled = await platform.boot(shape);
    await a.activate({ image: './main.mjs', args: [] });
    await b.activate({ image: './main.mjs', args: [] });
    // The UI starts now: node 3 is still dormant in the pool.
    const snaps = new RunSnapshots({ simulation: sim, platform }, 'virtual');
    await snaps.refresh();
    let s = snaps.snapshot();
    expect(s.nodes.map((n) => [n.id, n.state])).toEqual([[1, 'allocated'], [2, 'allocated'], [3, 'dormant']]);
    expect(s.nodes[0]!.ebbs).toEqual({ 'MemoryAllocator #5': '@acme/alloc-1' });
    expect(s.nodes[0]!.tcp).toEqual([{ local: '10.0.0.1:7000', remote: '10.0.0.9:40001', state: 'ESTABLISHED', sendQueued: 0, receiveQueued: 0 }]);
    expect(s.edges).toEqual([]); // no traffic yet: no arrow

    sent.set(1, 4);
    sent.set(2, 1);
    await snaps.refresh();
    s = snaps.snapshot();
    expect(s.edges).toEqual([{ from: 1, to: 2, messages: 4, bytes: 40 }, { from: 2, to: 1, messages: 1, bytes: 10 }]);
    expect(s.nodes[0]!.nic).toEqual({ rxFrames: 4, txFrames: 4 });
    expect(s.nodes[0]!.stack).toEqual({ 'tcp.segmentsSent': 8 });
    expect(s.nodes[0]!.drops).toEqual({ 'iface.ipBadChecksum': 4 });
    expect(s.nodes[0]!.memory).toEqual({ totalBytes: 1 << 20, freePageBytes: (1 << 20) - 4 * 4096 });
    expect(s.nodes[0]!.messagesSent).toBe(4);

    await pooled.activate({ image: './main.mjs', args: [] });
    b.kill('pulled the plug');
    await b.died;
    await Promise.resolve();
    s = snaps.snapshot();
    expect(s.nodes.map((n) => [n.id, n.state])).toEqual([[1, 'allocated'], [2, 'dead'], [3, 'allocated']]);
    expect(s.nodes[1]!.cause).toBe('pulled the plug');
    expect(s.nodes[1]!.cores.every((c) => c.state === 'off')).toBe(true);
  });

  it("a node in another process is asked for its trace after the last cursor it sent, one trace ask at a time; a node in this simulation is not", async () => {
    const sim = new Simulation({ seed: 1 });
    const asked: { id: number; after: number | undefined }[] = [];
    let answer: (() => void)[] = [];
    // Node 1's machine is in this simulation (the in-process case); node 7 runs elsewhere.
    sim.createMachine({ name: 'node1', cores: 1, memoryBytes: 1 << 20 });
    const node = (networkId: number) =>
      remoteNode(networkId, (o?: IntrospectOptions): Promise<NodeIntrospection> => {
        asked.push({ id: networkId, after: o?.traceAfter });
        const after = o?.traceAfter ?? 0;
        // The node has made 3 more events since each cursor.
        const trace = o?.traceAfter === undefined ? undefined : { events: [1, 2, 3].map((k) => ({ core: k % 2, ph: 'X' as const, name: `e${after + k}`, tsNs: after + k, durNs: 1 })), skipped: 0, last: after + 3 };
        return new Promise((resolve) => answer.push(() => resolve({ networkId, ebbs: [], ...(trace !== undefined ? { trace } : {}) })));
      });
    const platform = platformOf(node(1), node(7));
    const got: string[] = [];
    const snaps = new RunSnapshots({ simulation: sim, platform }, 'realtime', { remoteTrace: (id, b) => got.push(...b.events.map((e) => `${id}:${e.name}`)) });
    const flush = async () => {
      const a = answer;
      answer = [];
      for (const f of a) f();
      await new Promise((r) => setTimeout(r, 0));
    };
    const p1 = snaps.refresh();
    void snaps.refresh(); // while node 7's trace ask is out, it is asked for stats only
    expect(asked).toEqual([{ id: 1, after: undefined }, { id: 7, after: 0 }, { id: 1, after: undefined }, { id: 7, after: undefined }]);
    await flush();
    await p1;
    expect(got).toEqual(['7:e1', '7:e2', '7:e3']);
    const p2 = snaps.refresh();
    await flush();
    await p2;
    expect(asked.slice(4)).toEqual([{ id: 1, after: undefined }, { id: 7, after: 3 }]);
    expect(got).toEqual(['7:e1', '7:e2', '7:e3', '7:e4', '7:e5', '7:e6']);
  });

  it("a remote node's trace times are moved onto this simulation's clock, within the asks' round trip; its dropped events are counted", async () => {
    const sim = new Simulation({ seed: 1, clock: 'realtime' });
    // Node 6's process started 5 s after this one: its clock reads 5 s less. After its restart, 1 s less.
    let behindNs = 5e9;
    let made: { local: number; name: string }[] = [];
    let skipped = 7;
    let cursor = 0;
    const n = remoteNode(6, async (o?: IntrospectOptions): Promise<NodeIntrospection> => {
      const events = o?.traceAfter === undefined ? [] : made.map((e) => ({ core: 0, ph: 'i' as const, name: e.name, tsNs: e.local - behindNs, durNs: 0 }));
      if (o?.traceAfter !== undefined) made = [];
      cursor += events.length;
      const trace = o?.traceAfter !== undefined ? { events, skipped, last: cursor } : undefined;
      if (trace !== undefined) skipped = 0; // dropped once, reported once
      return { networkId: 6, ebbs: [], nowNs: sim.now() - behindNs, ...(trace !== undefined ? { trace } : {}) };
    });
    const platform = platformOf(n);
    const got: { name: string; ts: number }[] = [];
    const snaps = new RunSnapshots({ simulation: sim, platform }, 'realtime', {
      remoteTrace: (_id, b, offsetNs) => got.push(...b.events.map((e) => ({ name: e.name, ts: e.tsNs + offsetNs }))),
    });
    const at = new Map<string, number>();
    const round = async (names: string[]): Promise<{ from: number; to: number }> => {
      // A snapshot's own refresh (its trace ask) is done first.
      await new Promise((r) => setTimeout(r, 0));
      for (const name of names) {
        at.set(name, sim.now());
        made.push({ local: at.get(name)!, name });
      }
      const from = sim.now();
      await snaps.refresh();
      return { from, to: sim.now() };
    };
    // The estimate's error is at most half of every round trip so far (the answer came in between).
    const check = (names: string[], made: Map<string, number>, bound: number): void => {
      for (const name of names) {
        const e = got.find((g) => g.name === name)!;
        expect(Math.abs(e.ts - made.get(name)!), name).toBeLessThanOrEqual(bound);
      }
    };
    const r1 = await round(['a', 'b']);
    check(['a', 'b'], at, (r1.to - r1.from) / 2 + 1);
    expect(snaps.snapshot().nodes[0]!.traceSkipped).toBe(7);
    skipped = 3;
    const r2 = await round(['c']);
    check(['c'], at, Math.min(r1.to - r1.from, r2.to - r2.from) / 2 + 1);
    expect(snaps.snapshot().nodes[0]!.traceSkipped).toBe(10);
    // The node's process restarted (its clock is 4 s ahead of where it was): followed at once.
    behindNs = 1e9;
    skipped = 0;
    const r3 = await round(['d']);
    check(['d'], at, (r3.to - r3.from) / 2 + 1);
    expect(snaps.snapshot().nodes[0]!.traceSkipped).toBe(10);
  });

  it("an unfinished event is late past the config's watchdog budget (100 ms without one; the option wins)", async () => {
    const sim = new Simulation({ seed: 1 });
    // Node 5 runs elsewhere: its cores come with its answer, one event 30 ms old on core 1.
    const n = remoteNode(5, async (): Promise<NodeIntrospection> => ({
      networkId: 5,
      ebbs: [],
      cores: [0, 1].map((index) => ({ index, state: 'halted', slices: 1, busyHostMs: 0, ...(index === 1 ? { oldestEvent: { name: 'slowCheck', ageNs: 30e6 } } : {}) })),
      }));
    const platform = platformOf(n);
    const lateWith = async (config: unknown, watchdogMs?: number): Promise<boolean | undefined> => {
      const snaps = new RunSnapshots({ simulation: sim, platform, config: config as AppConfig }, 'virtual', watchdogMs !== undefined ? { watchdogMs } : {});
      await snaps.refresh();
      return snaps.snapshot().nodes[0]!.cores[1]!.oldest?.late;
    };
    expect(await lateWith(undefined)).toBe(false);
    expect(await lateWith({ watchdog: { budgetUs: 20_000 } })).toBe(true);
    expect(await lateWith({ watchdog: { budgetUs: 40_000 } })).toBe(false);
    expect(await lateWith({ watchdog: { budgetUs: 20_000 } }, 50)).toBe(false);
  });

  it("trace pids name their node, and a machine that is no node (the gateway) by its name; a machine's name stays after it is gone", () => {
    const sim = new Simulation({ seed: 1 });
    const n1 = sim.createMachine({ name: 'node1', cores: 1, memoryBytes: 1 << 20 });
    const gw = sim.createMachine({ name: 'gateway', cores: 1, memoryBytes: 1 << 20 });
    const nodeOf = tracePids(sim);
    expect([nodeOf(n1.tracePid), nodeOf(gw.tracePid), nodeOf(9999)]).toEqual([1, 'gateway', undefined]);
    sim.destroyMachine(gw);
    expect(nodeOf(gw.tracePid)).toBe('gateway');
  });
});
