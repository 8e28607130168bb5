/**
 * Under the virtual clock, over links that lose, duplicate and reorder frames, every seed gives
 * the exact same results, equal to ml-matrix's. The coordinator (the space) runs on back-end
 * node 1 with nodes 2..5 as its tile nodes: under a virtual clock only back-ends talk over the
 * Messenger, and every byte of the matrix traffic crosses the simulated lossy links.
 */
import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { MatrixSpace, packed, randomAt } from '../src/index.js';
import { maxRelDiff, seeds, withFrontend } from './cluster.js';
import { StaticAllocator } from './static-allocator.js';

const PEERS = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [String(i), `10.0.0.${i + 1}:7000`]));

function reference(rows: number, cols: number, seed: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, randomAt(seed, r, c));
  return m;
}

async function cluster(seed: number) {
  return withFrontend(
    { clock: 'virtual', seed, nodes: 5, onNode1: true, messenger: { port: 7000, peers: PEERS }, link: { loss: 0.03, duplicate: 0.01, reorder: 0.05 } },
    async () => {
      const allocator = new StaticAllocator([2, 3, 4, 5]);
      const space = new MatrixSpace({ tileSize: 8, placement: packed(4), allocator });
      const a = await space.random(21, 19, 5);
      const b = await space.random(19, 17, 6);
      const m = new Matrix(21, 19);
      for (let r = 0; r < 21; r++) for (let c = 0; c < 19; c++) m.set(r, c, (r * 31 + c * 7) % 11 - 5);
      const f = await space.fromMatrix(m);
      const product = await (await a.multiply(b)).toMatrix();
      const sum = await (await a.add(f)).toMatrix();
      const t = await (await f.transpose()).toMatrix();
      const scaled = await (await b.scale(0.75)).toMatrix();
      const total = await a.sum();
      const live = allocator.liveNodes().length;
      await space.close();
      return { product, sum, t, scaled, total, live, after: allocator.liveNodes().length };
    },
  );
}

describe('matrix ops under the virtual clock with loss, duplication and reordering', () => {
  it('are exact and equal for every seed', async () => {
    const ra = reference(21, 19, 5);
    const rb = reference(19, 17, 6);
    const rm = new Matrix(21, 19);
    for (let r = 0; r < 21; r++) for (let c = 0; c < 19; c++) rm.set(r, c, (r * 31 + c * 7) % 11 - 5);
    let first: string | undefined;
    for (const seed of seeds(20)) {
      const { value, run } = await cluster(seed);
      expect(value, `seed ${seed}: the coordinator did not finish`).toBeDefined();
      expect(maxRelDiff(value.product, ra.mmul(rb)), `seed ${seed}`).toBeLessThan(1e-9);
      expect(maxRelDiff(value.sum, Matrix.add(ra, rm))).toBeLessThan(1e-9);
      expect(maxRelDiff(value.t, rm.transpose())).toBe(0);
      expect(maxRelDiff(value.scaled, Matrix.mul(rb, 0.75))).toBeLessThan(1e-9);
      expect(Math.abs(value.total - ra.sum()) / ra.sum()).toBeLessThan(1e-12);
      expect(value.live).toBe(4);
      expect(value.after).toBe(0);
      const lost = run.network!.simulated.fabric.links.reduce((n, l) => n + l.totals().lost, 0);
      expect(lost, `seed ${seed}: loss was on`).toBeGreaterThan(0);
      // Byte-exact across seeds: accumulation order never depends on arrival order.
      const bytes = JSON.stringify([value.product.to2DArray(), value.sum.to2DArray(), value.scaled.to2DArray(), value.total]);
      first ??= bytes;
      expect(bytes === first, `seed ${seed}: results differ from seed 1's`).toBe(true);
    }
  }, 600_000);
});
