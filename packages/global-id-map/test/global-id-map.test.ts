import { EbbRef, MulticoreRoot, NodeContext, staticEbbId } from '@ebbrt/core-translation';
import {
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  validateManifest,
  type GlobalIdMap,
  type Messenger,
} from '@ebbrt/interfaces';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GET,
  GlobalEbb,
  GlobalIdMapError,
  SET,
  encodeRequest,
  fromGlobalIdMap,
  manifest,
  serveGlobalIdMap,
  type GlobalIdMapRoot,
} from '../src/index.js';
import { hostedNode } from '@ebbrt/testkit/hosted';
import { mapCluster, mapRef, type MapCluster } from './setup.js';

const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);

const clusters: MapCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.dispose();
});
async function make(kind: 'native' | 'hosted', opts: Parameters<typeof mapCluster>[1] = {}): Promise<MapCluster> {
  const c = await mapCluster(kind, opts);
  clusters.push(c);
  return c;
}

/** One hosted node (the front-end, id 0) with an Event Manager, a Timer and the map: no Messenger at all. */
function frontEnd(cores = 2, options: Record<string, unknown> = {}) {
  const { node, log, on, dispose } = hostedNode({ cores, idSpace: 1 });
  const root = manifest.create({ id: SystemEbbIds.GlobalIdMap, node, target: 'hosted', log }, manifest.options!.parse(options)) as GlobalIdMapRoot;
  node.install(SystemEbbIds.GlobalIdMap, root);
  disposers.push(dispose);
  return { node, root, on };
}
const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((d) => d()));

describe('manifest and options', () => {
  it('is a valid GlobalIdMap manifest for both targets; bad options name the field', () => {
    const m = validateManifest('@ebbrt/global-id-map', manifest);
    expect(m.implements).toBe('GlobalIdMap');
    expect([...m.targets].sort()).toEqual(['hosted', 'native']);
    expect(manifest.options!.parse({})).toEqual({ home: 0, timeoutMs: 5000, maxDataBytes: 1024 * 1024 });
    expect(() => manifest.options!.parse({ hom: 1 })).toThrow();
    expect(() => manifest.options!.parse({ timeoutMs: 0 })).toThrow();
    expect(() => manifest.options!.parse({ maxDataBytes: 64 * 1024 * 1024 })).toThrow(/Messenger/);
  });
});

describe('on the front-end (the home): the local table', () => {
  it('get/set act on the table and resume on the calling core', async () => {
    const fe = frontEnd();
    await fe.on(1, () => mapRef.deref().set(0x10001, 'one'));
    expect(await fe.on(0, () => mapRef.deref().get(0x10001))).toBe('one');
    expect(await fe.on(0, () => mapRef.deref().get(0x10002))).toBeUndefined();
    await fe.on(0, () => mapRef.deref().set(0x10001, 'uno'));
    expect(await fe.on(1, () => mapRef.deref().get(0x10001))).toBe('uno');
    expect(fe.root.stats()).toMatchObject({ localGets: 3, localSets: 2, entries: 1, remoteGets: 0 });
  });

  it('rejects invalid ids and data with GlobalIdMapError naming them', async () => {
    const fe = frontEnd(1, { maxDataBytes: 16 });
    for (const id of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      const e = await fe.on(0, () => mapRef.deref().get(id)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GlobalIdMapError);
      expect((e as GlobalIdMapError).code).toBe('EBBRT_GLOBAL_ID_MAP_BAD_ID');
      await expect(fe.on(0, () => mapRef.deref().set(id, 'x'))).rejects.toThrow(/not a valid EbbId/);
    }
    await expect(fe.on(0, () => mapRef.deref().set(5, 42 as unknown as string))).rejects.toMatchObject({ code: 'EBBRT_GLOBAL_ID_MAP_BAD_DATA' });
    await expect(fe.on(0, () => mapRef.deref().set(5, 'x'.repeat(17)))).rejects.toThrow(/17 bytes of data exceed maxDataBytes \(16\)/);
    // 6 characters, 18 UTF-8 bytes.
    await expect(fe.on(0, () => mapRef.deref().set(5, '€€€€€€'))).rejects.toThrow(/18 bytes/);
    await fe.on(0, () => mapRef.deref().set(5, 'x'.repeat(16)));
    expect(fe.root.stats().entries).toBe(1);
  });

  it('property: the table behaves as a Map for any sequence of sets and gets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined })), { maxLength: 60 }),
        async (ops) => {
          const fe = frontEnd(1);
          const model = new Map<number, string>();
          for (const [id, data] of ops) {
            if (data === undefined) expect(await fe.on(0, () => mapRef.deref().get(id))).toBe(model.get(id));
            else {
              await fe.on(0, () => mapRef.deref().set(id, data));
              model.set(id, data);
            }
          }
          disposers.splice(0).forEach((d) => d());
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe.each(['native', 'hosted'] as const)('%s: back-ends ask the home over the Messenger', (kind) => {
  it('sets from every node and core land in the home table; every node gets every entry; callers resume on their own core', async () => {
    const c = await make(kind, { nodes: 3 });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) for (let core = 0; core < 2; core++) ids.push(((i + 2) << 16) + core + 1);
    await c.all(ids.map((id, k) => [Math.floor(k / 2), k % 2, () => mapRef.deref().set(id, `data of ${id.toString(16)} ${'é'.repeat(k * 100)}`)]));
    expect(c.maps[0]!.stats().entries).toBe(6);
    for (let i = 0; i < 3; i++) {
      for (let core = 0; core < 2; core++) {
        const got = await c.onCore(i, core, () => Promise.all(ids.map((id) => mapRef.deref().get(id))));
        expect(got).toEqual(ids.map((id, k) => `data of ${id.toString(16)} ${'é'.repeat(k * 100)}`));
      }
    }
    expect(await c.onCore(2, 1, () => mapRef.deref().get(0x7fff0001))).toBeUndefined();
    const s1 = c.maps[1]!.stats();
    expect(s1.remoteSets).toBe(2);
    expect(s1.remoteGets).toBe(12);
    expect(s1).toMatchObject({ timeouts: 0, unreachable: 0, strayReplies: 0 });
    // Replies come in on the connection's core: the other core's were forwarded to it.
    expect(s1.forwardedReplies).toBeGreaterThan(0);
    expect(c.maps[0]!.stats()).toMatchObject({ served: 4 + 24 + 1, badRequests: 0 });
    expect(c.failures).toEqual([]);
  });

  it('concurrent sets to one id from every node end with one of the written values, the same everywhere', async () => {
    const c = await make(kind, { nodes: 3 });
    const id = 0x00030009;
    const writes: [number, number, () => Promise<void>][] = [];
    for (let round = 0; round < 5; round++) for (let i = 0; i < 3; i++) for (let core = 0; core < 2; core++) writes.push([i, core, () => mapRef.deref().set(id, `n${i}c${core}r${round}`)]);
    await c.all(writes);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 3; i++) for (let core = 0; core < 2; core++) seen.add(await c.onCore(i, core, () => mapRef.deref().get(id)));
    expect(seen.size).toBe(1);
    expect([...seen][0]).toMatch(/^n[0-2]c[01]r[0-4]$/);
    expect([...seen][0]).toBe(c.maps[0]!.table!.get(id));
  });

  it('garbage requests are counted and answered or dropped, never thrown; the map keeps working', async () => {
    const c = await make(kind, { nodes: 2 });
    const home = c.id(0);
    await c.run(1, 0, async () => {
      const m = messengerRef.deref();
      const bad: [number, Uint8Array][] = [
        [GET, new Uint8Array(0)], // no header: dropped
        [GET, new Uint8Array(3)], // no header: dropped
        [GET, new Uint8Array(8)], // header, no id: error reply (to no pending request)
        [99, new Uint8Array(16)], // unknown type: error reply
        [GET, encodeRequest(77, 0, 0).toUint8Array()], // id 0
        [SET, (() => { const b = encodeRequest(78, 0, 5, new Uint8Array([0xff, 0xfe])).toUint8Array(); return b; })()], // not UTF-8
        [3, new Uint8Array([1, 2])], // a "reply" to the home: bad request
      ];
      for (const [type, bytes] of bad) await m.send(home, SystemEbbIds.GlobalIdMap, type, IOBuf.copyOf(bytes));
      // Random bytes of random types.
      fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 40 }), (type, bytes) => {
        void m.send(home, SystemEbbIds.GlobalIdMap, type, IOBuf.copyOf(bytes));
      }), { numRuns: 50, seed: 7 });
    });
    await c.until(() => c.maps[0]!.stats().badRequests >= 7, 'bad requests counted');
    await c.onCore(1, 1, () => mapRef.deref().set(0x20001, 'still fine'));
    expect(await c.onCore(1, 0, () => mapRef.deref().get(0x20001))).toBe('still fine');
    const home0 = c.maps[0]!.stats();
    expect(home0.badRequests).toBeGreaterThanOrEqual(7);
    // Error replies with ids nobody waits for are counted as stray on the asker, not thrown.
    expect(c.maps[1]!.stats().strayReplies).toBeGreaterThan(0);
    expect(c.failures).toEqual([]);
  });

  it('a remote set that the home refuses rejects with the home error and its code', async () => {
    const c = await make(kind, { nodes: 2 });
    // The home accepts less than the asker does.
    c.maps[0]!.options.maxDataBytes;
    (c.maps[0]!.options as { maxDataBytes: number }).maxDataBytes = 10;
    const e = await c.onCore(1, 1, () => mapRef.deref().set(0x20002, 'x'.repeat(11)).then(() => undefined, (x: unknown) => x));
    expect(e).toBeInstanceOf(GlobalIdMapError);
    expect((e as GlobalIdMapError).code).toBe('EBBRT_GLOBAL_ID_MAP_BAD_DATA');
    expect((e as Error).message).toMatch(/home node \d+ answered: set\(0x20002\): 11 bytes exceed the home's maxDataBytes \(10\)/);
  });

  it("a home whose GlobalIdMap is another implementation serves back-ends through serveGlobalIdMap()", async () => {
    const c = await make(kind, { nodes: 2, skipMapOn: [0] });
    // A stand-in for @ebbrt/global-id-map-etcd: same interface, async, its own storage.
    const store = new Map<number, string>();
    const other: GlobalIdMap = {
      get: async (id) => store.get(id),
      set: async (id, data) => void store.set(id, data),
    };
    c.nodes[0]!.install(SystemEbbIds.GlobalIdMap, { handleFault: () => other });
    const server = await c.run(0, 0, () => serveGlobalIdMap());
    await c.onCore(1, 1, () => mapRef.deref().set(0x20003, 'kept elsewhere'));
    expect(store.get(0x20003)).toBe('kept elsewhere');
    expect(await c.onCore(1, 0, () => mapRef.deref().get(0x20003))).toBe('kept elsewhere');
    expect(server.stats.served).toBe(2);
  });

  it('fromGlobalIdMap builds a rep from map data on a node that never saw the Ebb, once per node, from both cores', async () => {
    const c = await make(kind, { nodes: 3 });
    type Greeter = { greet(): string };
    const builds: number[] = [];
    const build = (data: string, where: { node: NodeContext; id: number }) => {
      builds.push(where.node.id);
      const { greeting } = JSON.parse(data) as { greeting: string };
      return new MulticoreRoot<Greeter>(where.node, where.id, undefined, (core) => ({ greet: () => `${greeting} from node ${core.node.id} core ${core.index}` }));
    };
    const id = await c.run(1, 0, async () => (await GlobalEbb.create(JSON.stringify({ greeting: 'hej' }), build)).id);
    expect(id >>> 16).toBeGreaterThan(0); // a global id from node 1's id space
    const [a, b] = await c.all([
      [2, 0, async () => (await fromGlobalIdMap<Greeter>(id, build)).deref().greet()],
      [2, 1, async () => (await fromGlobalIdMap<Greeter>(id, build)).deref().greet()],
    ]);
    expect(a).toBe(`hej from node ${c.id(2)} core 0`);
    expect(b).toBe(`hej from node ${c.id(2)} core 1`);
    expect(builds).toEqual([c.id(1), c.id(2)]); // once on the creator, once on node 2
    const again = await c.onCore(2, 0, async () => (await fromGlobalIdMap<Greeter>(id, build)).deref().greet());
    expect(again).toBe(a);
    expect(builds).toHaveLength(2);
    const missing = await c.onCore(0, 0, () => fromGlobalIdMap(staticEbbId('nobody published this'), build).then(() => undefined, (e: unknown) => e));
    expect(missing).toMatchObject({ code: 'EBBRT_GLOBAL_ID_MAP_NO_ENTRY' });
    expect(c.nodes[0]!.localIdMap.has(staticEbbId('nobody published this'))).toBe(false);
  });
});

describe('failures of the home', () => {
  it('hosted: a dead home (its Messenger stopped) rejects with NodeUnavailableError naming it', async () => {
    const c = await make('hosted', { nodes: 2 });
    await c.run(0, 0, () => c.roots[0]!.stop());
    const e = await c.onCore(1, 1, () => mapRef.deref().get(0x20004).then(() => undefined, (x: unknown) => x));
    expect(e).toBeInstanceOf(NodeUnavailableError);
    expect((e as NodeUnavailableError).nodeId).toBe(10);
    expect((e as Error).message).toMatch(/node 10: GlobalIdMap get\(0x20004\) from node 11 cannot reach its home/);
    expect(c.maps[1]!.stats().unreachable).toBe(1);
    expect(c.maps[1]!.repOn(1)!.pendingRequests).toBe(0);
  });

  it('native: a home with no address rejects at once naming it', async () => {
    const c = await make('native', { nodes: 2, options: { home: 42 } });
    const e = await c.onCore(1, 0, () => mapRef.deref().set(0x20005, 'x').then(() => undefined, (x: unknown) => x));
    expect(e).toMatchObject({ nodeId: 42 });
    expect((e as Error).message).toMatch(/node 42: GlobalIdMap set\(0x20005\).*no address known/);
  });

  it('native: a home that takes the message but never answers times out after timeoutMs of virtual time', async () => {
    const c = await make('native', { nodes: 2, skipMapOn: [0], options: { timeoutMs: 250 } });
    const t0 = c.native!.sim.now();
    const e = await c.onCore(1, 1, () => mapRef.deref().get(0x20006).then(() => undefined, (x: unknown) => x));
    const elapsedMs = (c.native!.sim.now() - t0) / 1e6;
    expect(e).toBeInstanceOf(NodeUnavailableError);
    expect((e as Error).message).toMatch(/node 1: GlobalIdMap get\(0x20006\) from node 2: no reply within 250 ms/);
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
    expect(elapsedMs).toBeLessThan(300);
    expect(c.maps[1]!.stats().timeouts).toBe(1);
  });
});
