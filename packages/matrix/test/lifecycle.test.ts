/**
 * Elasticity: nodes are allocated on first touch and only for touched tiles, and every way of
 * letting go of a matrix (free(), `await using`, dropping it and collecting it) gives every node
 * back to the NodeAllocator, including a node shared with another matrix once the last one goes.
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NodeAllocator } from '@ebbrt/interfaces';
import { collectUntil } from '@ebbrt/testkit/gc';
import { describe, expect, it } from 'vitest';
import { MatrixError, MatrixSpace, packed, type DistMatrix } from '../src/index.js';
import { withFrontend } from './cluster.js';

const allocator = () => new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();

describe('laziness', () => {
  it('touching one element of a 1e6 x 1e6 matrix allocates exactly one node', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const na = allocator();
      const base = na.liveNodes().length;
      const space = new MatrixSpace({ tileSize: 1000, post: ctx.post });
      const m = space.zeros(1e6, 1e6);
      const before = na.liveNodes().length - base;
      await m.set(123_456, 987_654, 5);
      const one = { space: space.nodes().length, allocator: na.liveNodes().length - base, tiles: m.touchedTiles() };
      const read = await m.get(123_456, 987_654);
      const sameTile = await m.get(123_999, 987_000);
      const afterSameTile = na.liveNodes().length - base;
      const sum = await m.sum();
      const fill = await m.fill(1).then(() => 'filled', (e: unknown) => (e instanceof MatrixError ? e.message : String(e)));
      const afterFill = na.liveNodes().length - base;
      const outside = await m.get(1e6, 0).then(() => 'ok', (e: Error) => e.message);
      await m.free();
      return { before, one, read, sameTile, afterSameTile, sum, fill, afterFill, outside, end: na.liveNodes().length - base };
    });
    expect(value.before).toBe(0);
    expect(value.one).toEqual({ space: 1, allocator: 1, tiles: 1 });
    expect(value.read).toBe(5);
    expect(value.sameTile).toBe(0);
    expect(value.afterSameTile).toBe(1);
    expect(value.sum).toBe(5);
    // Filling 1e6 tiles would take 1e6 nodes: refused before allocating any.
    expect(value.fill).toMatch(/touching all 1000000 tiles of matrix #1 would hold up to 1000000 nodes, over maxNodes 1024/);
    expect(value.afterFill).toBe(1);
    expect(value.outside).toMatch(/index \(1000000, 0\) is outside a 1000000x1000000 matrix/);
    expect(value.end).toBe(0);
  }, 120_000);
});

describe('the node budget', () => {
  it('an op whose result would take more than maxNodes nodes is refused before allocating any', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const na = allocator();
      const base = na.liveNodes().length;
      const space = new MatrixSpace({ tileSize: 10, maxNodes: 6, post: ctx.post });
      const a = await space.random(20, 10, 1); // 2 tiles, 2 nodes
      const b = await space.random(10, 20, 2); // 2 more
      const refused = await a.multiply(b).then(() => 'ok', (e: Error) => e.message);
      const live = na.liveNodes().length - base;
      const small = (await a.scale(2)).nodes().length; // 2 more tiles: 6 nodes, within the budget
      return { refused, live, small, matrices: space.stats.matrices };
    });
    expect(value.refused).toMatch(/a result of 4 tiles would hold up to 8 nodes, over maxNodes 6/);
    expect(value.live).toBe(4);
    expect(value.small).toBe(2);
    expect(value.matrices).toBe(3); // the refused product left nothing behind
  }, 120_000);
});

describe('freeing', () => {
  it('free(), await using and garbage collection each return the live count to its baseline', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const na = allocator();
      const base = na.liveNodes().length;
      const space = new MatrixSpace({ tileSize: 10, post: ctx.post });
      const live = () => na.liveNodes().length - base;
      const out: Record<string, number | string> = {};

      const m = await space.random(40, 40, 1);
      out.heldByFree = live();
      out.nodesOfM = m.nodes().length;
      await m.free();
      out.afterFree = live();
      out.useAfterFree = await m.sum().then(() => 'ok', (e: Error) => e.message);
      await m.free(); // idempotent

      {
        await using d = await space.random(25, 25, 2);
        out.heldByUsing = live();
        out.usingNodes = d.nodes().length;
      }
      out.afterUsing = live();

      // Made and dropped inside a function: nothing keeps the handle reachable.
      const make = async (): Promise<number> => (await space.random(30, 30, 3)).nodes().length;
      out.heldByDropped = await make();
      out.beforeGc = live();
      // gc() and task turns (vitest runs the forks with --expose-gc): the FinalizationRegistry's
      // callback posts the free onto the front-end core, which gives the nodes back.
      out.gcRounds = await collectUntil(() => live() === 0, 200);
      out.afterGc = live(); // (off the front-end core now: only synchronous reads from here)
      out.matrices = space.stats.matrices;
      return out;
    });
    expect(value.heldByFree).toBe(16);
    expect(value.nodesOfM).toBe(16);
    expect(value.afterFree).toBe(0);
    expect(value.useAfterFree).toMatch(/matrix #1 was freed/);
    expect(value.heldByUsing).toBe(9);
    expect(value.usingNodes).toBe(9);
    expect(value.afterUsing).toBe(0);
    expect(value.heldByDropped).toBe(9);
    expect(value.beforeGc).toBe(9);
    expect(value.afterGc).toBe(0);
    expect(value.matrices).toBe(0);
  }, 120_000);

  it('a node holding tiles of two matrices is freed when the last one goes, and keeps nothing of the first', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const na = allocator();
      const base = na.liveNodes().length;
      const space = new MatrixSpace({ tileSize: 4, placement: packed(1), post: ctx.post });
      const a: DistMatrix = await space.random(8, 8, 1);
      const b: DistMatrix = await space.random(8, 12, 2);
      const shared = space.nodes();
      const both = await space.nodeStats(shared[0]!);
      await a.free();
      const afterA = { live: na.liveNodes().length - base, stats: await space.nodeStats(shared[0]!), bSum: await b.sum() };
      await b.free();
      return { shared, both, afterA, afterB: na.liveNodes().length - base, nodes: space.nodes() };
    });
    expect(value.shared).toHaveLength(1);
    expect(value.both).toMatchObject({ matrices: 2, tiles: 4 + 6, bytes: (64 + 96) * 8, jobs: 0 });
    expect(value.afterA.live).toBe(1);
    expect(value.afterA.stats).toMatchObject({ matrices: 1, tiles: 6, bytes: 96 * 8 });
    expect(value.afterA.bSum).toBeGreaterThan(0);
    expect(value.afterB).toBe(0);
    expect(value.nodes).toEqual([]);
  }, 120_000);
});
