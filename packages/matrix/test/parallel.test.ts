/**
 * Real parallelism on the process-per-node platform: tile nodes are OS processes, and the tile
 * work of one multiply runs in two of them at the same time (their job windows, read from each
 * node's own wall clock, overlap).
 */
import { describe, expect, it } from 'vitest';
import { MatrixSpace, packed, randomAt } from '../src/index.js';
import { IMAGE, withFrontend } from './cluster.js';

// The package's image, plus a wall clock for job windows and the node process's pid.
const TIMED_IMAGE = `import { installTileNode } from ${JSON.stringify(IMAGE)};
export function main(ctx) {
  installTileNode(ctx.node, { clock: () => performance.timeOrigin + performance.now() });
  ctx.log('pid ' + process.pid);
}
`;

describe('process-per-node parallelism', () => {
  it('tile work of one multiply runs in different OS processes at the same time', async () => {
    const { value, lines } = await withFrontend({ platform: 'process', files: { 'timed-image.mjs': TIMED_IMAGE } }, async (ctx) => {
      const space = new MatrixSpace({ tileSize: 512, placement: packed(2), post: ctx.post, image: './timed-image.mjs' });
      const a = await space.random(1024, 1024, 1);
      const b = await space.random(1024, 1024, 2);
      const c = await a.multiply(b);
      const nodes = space.nodes();
      const windows = await Promise.all(nodes.map((n) => space.jobWindows(n)));
      const probes: [number, number, number][] = [];
      for (const [i, j] of [[0, 0], [1023, 1023], [17, 900], [600, 3]] as const) probes.push([i, j, await c.get(i, j)]);
      await space.close();
      return { nodes, windows, probes };
    });
    const pids = new Set(lines.filter((l) => / pid \d+$/.test(l)).map((l) => Number(l.split(' pid ')[1])));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    expect(value.nodes).toHaveLength(2);
    const [w1, w2] = value.windows;
    expect(w1!.length).toBe(2); // two product tiles per node
    expect(w2!.length).toBe(2);
    const overlap = w1!.some(([s1, e1]) => w2!.some(([s2, e2]) => Math.max(s1, s2) < Math.min(e1, e2)));
    expect(overlap, JSON.stringify(value.windows)).toBe(true);
    for (const [i, j, got] of value.probes) {
      let want = 0;
      for (let k = 0; k < 1024; k++) want += randomAt(1, i, k) * randomAt(2, k, j);
      expect(Math.abs(got - want) / want).toBeLessThan(1e-9);
    }
  }, 240_000);
});
