import { cpu, NodeContext } from '@ebbrt/core-translation';
import { manifest as eventManagerManifest } from '@ebbrt/event-manager';
import {
  NodeAllocationError,
  SystemEbbIds,
  UsageError,
  type DormantNode,
  type EventManagerRoot,
  type NodePlatform,
  type NodeRuntimeInfo,
  type NodeShape,
} from '@ebbrt/interfaces';
import { afterEach, describe, expect, it } from 'vitest';
import { manifest, nodeAllocatorOptionsSchema, type NodeAllocatorRep, type NodeAllocatorRoot } from '../src/index.js';

/** A platform whose nodes are plain objects: boots, activations, deaths and destroys are scripted and recorded. */
class FakePlatform implements NodePlatform {
  readonly kind = 'fake';
  nextId = 1;
  booted: FakeNode[] = [];
  failBoot = false;
  activation: 'ok' | 'fail' | 'hang' = 'ok';
  async boot(shape: NodeShape): Promise<DormantNode> {
    await new Promise((r) => setImmediate(r));
    if (this.failBoot) throw new Error('no machine left');
    const node = new FakeNode(this.nextId++, shape, this);
    this.booted.push(node);
    return node;
  }
}

class FakeNode implements DormantNode {
  destroyed = 0;
  info: NodeRuntimeInfo | undefined;
  private kill!: (e: Error) => void;
  readonly died = new Promise<Error>((r) => (this.kill = r));
  constructor(
    readonly networkId: number,
    readonly shape: NodeShape,
    private readonly platform: FakePlatform,
  ) {}
  async activate(info: NodeRuntimeInfo): Promise<void> {
    this.info = info;
    if (this.platform.activation === 'fail') throw new Error('image crashed at start');
    if (this.platform.activation === 'hang') await new Promise(() => undefined);
  }
  async destroy(): Promise<void> {
    this.destroyed++;
  }
  die(): void {
    this.kill(new Error('power lost'));
  }
}

const disposers: (() => void)[] = [];
afterEach(() => disposers.splice(0).forEach((d) => d()));

function frontEnd(platform: FakePlatform, options: Record<string, unknown> = {}) {
  const node = new NodeContext({ id: 0, numCores: 2, target: 'hosted' });
  const log: string[] = [];
  const ctx = (id: number) => ({ id, node, target: 'hosted' as const, platform, log: (l: string) => log.push(l) });
  const em = eventManagerManifest.create(ctx(SystemEbbIds.EventManager), eventManagerManifest.options!.parse({})) as EventManagerRoot;
  node.install(SystemEbbIds.EventManager, em);
  const root = manifest.create(ctx(SystemEbbIds.NodeAllocator), nodeAllocatorOptionsSchema.parse(options)) as NodeAllocatorRoot;
  node.install(SystemEbbIds.NodeAllocator, root);
  disposers.push(() => em.shutdown());
  /** Runs `fn` with this core's NodeAllocator rep, as an event on `core`. */
  const on = <T>(core: number, fn: (na: NodeAllocatorRep) => Promise<T> | T) =>
    new Promise<T>((resolve, reject) =>
      em.post(core, async () => {
        try {
          const c = node.core(core);
          const rep = (c.translation.get(SystemEbbIds.NodeAllocator) ?? node.fault(SystemEbbIds.NodeAllocator, c)) as NodeAllocatorRep;
          resolve(await fn(rep));
        } catch (e) {
          reject(e);
        }
      }),
    );
  return { root, on, log };
}

const SHAPE = { cores: 2, memoryBytes: 64 << 20 };

describe('NodeAllocator', () => {
  it('boots cold, hands the image and args over, and resolves the network id on the calling core', async () => {
    const p = new FakePlatform();
    const fe = frontEnd(p);
    const result = await fe.on(1, async (na) => {
      const id = await na.allocateNode('./src/backend.ts', { ...SHAPE, args: ['--x', '1'] }).networkId;
      return { id, core: cpu.current?.index, live: na.liveNodes() };
    });
    expect(result).toEqual({ id: 1, core: 1, live: [1] });
    expect(p.booted[0]!.info).toEqual({ image: './src/backend.ts', args: ['--x', '1'] });
    expect(fe.root.service.stats).toMatchObject({ allocated: 1, coldBoots: 1, fromPool: 0, live: 1 });
  });

  it('hands out pre-booted dormant nodes from the pool and refills it in the background', async () => {
    const p = new FakePlatform();
    const fe = frontEnd(p, { poolSize: 2, poolShape: SHAPE });
    await fe.root.service.pool!.whenFull();
    expect(p.booted).toHaveLength(2);
    const ids = await fe.on(0, async (na) => [await na.allocateNode('img', SHAPE).networkId, await na.allocateNode('img', SHAPE).networkId]);
    expect(ids).toEqual([1, 2]);
    expect(fe.root.service.stats).toMatchObject({ fromPool: 2, coldBoots: 0 });
    await fe.root.service.pool!.whenFull();
    expect(fe.root.service.pool!.available).toBe(2);
    // Another shape is not in the pool: it boots cold.
    const other = await fe.on(0, (na) => na.allocateNode('img', { cores: 1, memoryBytes: 4096 }).networkId);
    expect(p.booted.find((n) => n.networkId === other)!.shape).toEqual({ cores: 1, memoryBytes: 4096 });
    expect(fe.root.service.stats.coldBoots).toBe(1);
  });

  it('a boot that fails rejects with a clear error and leaves nothing live', async () => {
    const p = new FakePlatform();
    p.failBoot = true;
    const fe = frontEnd(p);
    const error = await fe.on(0, (na) => na.allocateNode('img', SHAPE).networkId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeAllocationError);
    expect((error as Error).message).toMatch(/allocateNode\("img"\): no machine left/);
    expect(fe.root.service.liveNodes()).toEqual([]);
  });

  it('a node that fails to start or never reports back is destroyed, not left half-booted', async () => {
    const p = new FakePlatform();
    const fe = frontEnd(p, { bootTimeoutMs: 50 });
    p.activation = 'fail';
    const crashed = await fe.on(0, (na) => na.allocateNode('img', SHAPE).networkId).catch((e: Error) => e.message);
    expect(crashed).toMatch(/node 1 failed to start: image crashed at start/);
    p.activation = 'hang';
    const hung = await fe.on(0, (na) => na.allocateNode('img', SHAPE).networkId).catch((e: Error) => e.message);
    expect(hung).toMatch(/node 2 failed to start: node 2 did not report back within 50 ms/);
    expect(p.booted.map((n) => n.destroyed)).toEqual([1, 1]);
    expect(fe.root.service.stats).toMatchObject({ failed: 2, live: 0 });
  });

  it('forgets and destroys a node that dies; freeNode and freeAll destroy exactly once', async () => {
    const p = new FakePlatform();
    const fe = frontEnd(p, { poolSize: 1, poolShape: SHAPE });
    const ids = await fe.on(0, async (na) => Promise.all([1, 2, 3].map(() => na.allocateNode('img', SHAPE).networkId)));
    expect(new Set(ids).size).toBe(3);
    p.booted.find((n) => n.networkId === ids[0])!.die();
    await new Promise((r) => setTimeout(r, 5));
    expect(fe.log.some((l) => l.includes(`node ${ids[0]} died: power lost`))).toBe(true);
    await fe.on(0, (na) => na.freeNode(ids[1]!));
    const unknown = await fe.on(0, (na) => na.freeNode(ids[1]!)).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UsageError);
    await fe.on(0, (na) => na.freeAll());
    await new Promise((r) => setTimeout(r, 5));
    // Every node ever booted (allocated or pooled) is destroyed exactly once.
    expect(p.booted.map((n) => n.destroyed)).toEqual(p.booted.map(() => 1));
    expect(fe.root.service.stats).toMatchObject({ live: 0, died: 1, freed: 2 });
  });

  it('rejects bad requests naming the field', async () => {
    const fe = frontEnd(new FakePlatform());
    const bad = (image: string, req: unknown) => fe.on(0, (na) => na.allocateNode(image, req as never).networkId).catch((e: Error) => e.message);
    expect(await bad('', SHAPE)).toMatch(/image must be a non-empty string/);
    expect(await bad('img', { cores: 0, memoryBytes: 4096 })).toMatch(/request\.cores must be an integer in 1\.\.256, got 0/);
    expect(await bad('img', { cores: 1, memoryBytes: 100 })).toMatch(/request\.memoryBytes must be a positive multiple of 4096, got 100/);
    expect(await bad('img', { cores: 1, memoryBytes: 4096, args: [1] })).toMatch(/request\.args must be an array of strings/);
    expect(() => frontEnd(new FakePlatform(), { poolSize: 1 })).toThrow(/poolSize needs poolShape/);
  });
});
