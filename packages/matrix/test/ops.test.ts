import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { MatrixSpace, randomAt } from '../src/index.js';
import { maxRelDiff, withFrontend } from './cluster.js';

function reference(rows: number, cols: number, seed: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, randomAt(seed, r, c));
  return m;
}

describe('matrix ops against ml-matrix', () => {
  it('7x13 with 4-tiles: get/set, fill, randomize, sum, add, scale, transpose, multiply', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const space = new MatrixSpace({ tileSize: 4, post: ctx.post });
      const a = await space.random(7, 13, 11);
      const b = await space.random(7, 13, 12);
      const c = await space.random(13, 5, 13);
      const ra = reference(7, 13, 11);
      const rb = reference(7, 13, 12);
      const rc = reference(13, 5, 13);
      const out: Record<string, number> = {};
      out.a = maxRelDiff(await a.toMatrix(), ra);
      out.sum = Math.abs((await a.sum()) - ra.sum()) / Math.abs(ra.sum());
      out.add = maxRelDiff(await (await a.add(b)).toMatrix(), Matrix.add(ra, rb));
      out.scale = maxRelDiff(await (await a.scale(-2.5)).toMatrix(), Matrix.mul(ra, -2.5));
      out.transpose = maxRelDiff(await (await a.transpose()).toMatrix(), ra.transpose());
      out.multiply = maxRelDiff(await (await a.multiply(c)).toMatrix(), ra.mmul(rc));
      await a.set(6, 12, 42);
      out.get = await a.get(6, 12);
      out.nodes = space.nodes().length;
      await space.close();
      out.after = space.nodes().length;
      return out;
    });
    expect(value.a).toBe(0);
    for (const k of ['sum', 'add', 'scale', 'transpose', 'multiply']) expect(value[k], k).toBeLessThan(1e-9);
    expect(value.get).toBe(42);
    expect(value.nodes).toBeGreaterThan(0);
    expect(value.after).toBe(0);
  }, 120_000);
});
