/**
 * A tile node killed mid-multiply: the multiply rejects with an error naming the tile and its
 * node, the broken matrix's other nodes and the half-built product's nodes are freed, the other
 * operand still works, and the front-end goes on making matrices.
 */
import { EbbRef } from '@ebbrt/core-translation';
import { SystemEbbIds, type NodeAllocator, type Timer } from '@ebbrt/interfaces';
import { describe, expect, it } from 'vitest';
import { MatrixSpace, MatrixTileError } from '../src/index.js';
import { withFrontend } from './cluster.js';

describe('a tile node killed mid-multiply', () => {
  // In-process: the machine loses power. Process per node: the node's OS process gets SIGKILL.
  it.each([
    ['in-process', 'power lost'],
    ['process', "node \\d+'s process exited \\(SIGKILL\\)"],
  ] as const)('on the %s platform: rejects naming the tile, frees the matrix\'s other nodes, and the front-end goes on', async (platform, cause) => {
    let kill: (id: number) => void = () => undefined;
    const { value, lines } = await withFrontend(
      { platform, run: { onStarted: ({ platform }) => (kill = (id) => platform.node(id)!.kill('power lost')) } },
      async (ctx) => {
        const na = new EbbRef<NodeAllocator>(SystemEbbIds.NodeAllocator).deref();
        const timer = new EbbRef<Timer>(SystemEbbIds.Timer).deref();
        const base = na.liveNodes().length;
        const space = new MatrixSpace({ tileSize: 200, post: ctx.post });
        const a = await space.random(400, 400, 1);
        const b = await space.random(400, 400, 2);
        const bSum = await b.sum();
        const aNodes = a.nodes();
        const victim = aNodes[1]!;
        const moved = space.stats.tilesMoved;
        const product = a.multiply(b).then(() => undefined, (e: unknown) => e);
        // Mid-multiply: once tiles are on the move between nodes.
        for (let i = 0; i < 10_000 && space.stats.tilesMoved === moved; i++) await timer.sleep(100);
        const killedAfterMoves = space.stats.tilesMoved - moved;
        kill(victim);
        const error = await product;
        const live = na.liveNodes();
        const aAfter = await a.sum().then(() => 'ok', (e: Error) => e.message);
        const bAfter = await b.sum();
        const c = await space.random(50, 50, 3);
        const cSum = await c.sum();
        await b.free();
        await c.free();
        return {
          error,
          victim,
          aNodes,
          bNodes: b.nodes(),
          killedAfterMoves,
          live,
          aAfter,
          bSum,
          bAfter,
          cSum,
          end: na.liveNodes().length - base,
        };
      },
    );
    expect(value.killedAfterMoves).toBeGreaterThan(0);
    expect(value.error).toBeInstanceOf(MatrixTileError);
    const e = value.error as MatrixTileError;
    expect(e.node).toBe(value.victim);
    // Either the job that waited on the node ("tile (i, j) of matrix #m on node n: node died") or
    // one dispatched after the death ("matrix #m lost tile (i, j): node n died"): both name the tile.
    expect(e.message).toMatch(new RegExp(`tile \\(\\d+, \\d+\\).* node ${value.victim}:? (node )?died: ${cause}`));
    expect(e.tile).toHaveLength(2);
    // Node 1 of A's 4 is gone; A's other 3 nodes and the product's nodes are freed: only B's 4 are left.
    expect(value.live.length).toBe(4);
    for (const n of value.aNodes) expect(value.live).not.toContain(n);
    expect(value.aAfter).toMatch(new RegExp(`matrix #1 lost tile \\(0, 1\\): node ${value.victim} died: ${cause}`));
    expect(value.bAfter).toBe(value.bSum);
    expect(value.cSum).toBeGreaterThan(0);
    expect(value.end).toBe(0);
    expect(lines.some((l) => new RegExp(`node ${value.victim} died: ${cause}`).test(l))).toBe(true);
  }, 120_000);
});
