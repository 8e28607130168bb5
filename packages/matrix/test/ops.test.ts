/**
 * Every op against ml-matrix on the same inputs, within 1e-9 relative, for shapes that do and do
 * not divide into tiles, under both placements; then fast-check over random shapes, tile sizes
 * and op chains.
 */
import fc from 'fast-check';
import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { MatrixSpace, packed, perTile, randomAt, type Placement } from '../src/index.js';
import { maxRelDiff, withFrontend } from './cluster.js';

function reference(rows: number, cols: number, seed: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, randomAt(seed, r, c));
  return m;
}

interface Case {
  rows: number;
  cols: number;
  /** The other operand of multiply is cols x inner. */
  inner: number;
  tile: number;
  placement: () => Placement;
}

const CASES: Case[] = [
  { rows: 1, cols: 1, inner: 1, tile: 100, placement: perTile },
  { rows: 7, cols: 13, inner: 5, tile: 100, placement: perTile },
  { rows: 7, cols: 13, inner: 5, tile: 4, placement: perTile },
  { rows: 7, cols: 13, inner: 9, tile: 3, placement: () => packed(2) },
  { rows: 512, cols: 512, inner: 512, tile: 100, placement: () => packed(4) },
  { rows: 200, cols: 300, inner: 100, tile: 100, placement: perTile },
];

describe('every op matches ml-matrix', () => {
  for (const c of CASES) {
    it(`${c.rows}x${c.cols} (x ${c.cols}x${c.inner}) in ${c.tile}-tiles, ${c.placement().name}`, async () => {
      const { value } = await withFrontend({}, async (ctx) => {
        const space = new MatrixSpace({ tileSize: c.tile, placement: c.placement(), post: ctx.post });
        const [a, b, m] = await Promise.all([space.random(c.rows, c.cols, 11), space.random(c.rows, c.cols, 12), space.random(c.cols, c.inner, 13)]);
        const ra = reference(c.rows, c.cols, 11);
        const rb = reference(c.rows, c.cols, 12);
        const rm = reference(c.cols, c.inner, 13);
        const out: Record<string, number> = {};
        out.randomize = maxRelDiff(await a.toMatrix(), ra);
        out.sum = Math.abs((await a.sum()) - ra.sum()) / Math.abs(ra.sum());
        out.add = maxRelDiff(await (await a.add(b)).toMatrix(), Matrix.add(ra, rb));
        out.scale = maxRelDiff(await (await a.scale(-2.5)).toMatrix(), Matrix.mul(ra, -2.5));
        out.transpose = maxRelDiff(await (await a.transpose()).toMatrix(), ra.transpose());
        out.multiply = maxRelDiff(await (await a.multiply(m)).toMatrix(), ra.mmul(rm));
        // fromMatrix/toMatrix round trip, and a product of an imported matrix.
        const imported = await space.fromMatrix(rm);
        out.roundTrip = maxRelDiff(await imported.toMatrix(), rm);
        out.importedProduct = maxRelDiff(await (await b.multiply(imported)).toMatrix(), rb.mmul(rm));
        const f = await space.zeros(c.rows, c.cols).fill(0.5);
        out.fill = maxRelDiff(await f.toMatrix(), Matrix.zeros(c.rows, c.cols).fill(0.5));
        await a.set(c.rows - 1, c.cols - 1, 42);
        out.get = (await a.get(c.rows - 1, c.cols - 1)) - 42;
        out.untouched = await space.zeros(c.rows, c.cols).get(0, 0);
        await space.close();
        out.after = space.nodes().length;
        return out;
      });
      for (const [k, v] of Object.entries(value)) expect(v, k).toBeLessThan(1e-9);
      expect(value.randomize).toBe(0);
      expect(value.roundTrip).toBe(0);
      expect(value.get).toBe(0);
      expect(value.after).toBe(0);
    }, 180_000);
  }

  it('property: random shapes, tile sizes and op chains agree with ml-matrix', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const space = new MatrixSpace({ tileSize: 3, placement: packed(3), post: ctx.post });
      const failures: string[] = [];
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            rows: fc.integer({ min: 1, max: 12 }),
            cols: fc.integer({ min: 1, max: 12 }),
            inner: fc.integer({ min: 1, max: 12 }),
            tile: fc.integer({ min: 1, max: 6 }),
            seed: fc.integer({ min: 0, max: 1000 }),
            factor: fc.double({ min: -100, max: 100, noNaN: true }),
            sets: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 5 }),
          }),
          async ({ rows, cols, inner, tile, seed, factor, sets }) => {
            const a = await space.random(rows, cols, seed, tile);
            const ra = reference(rows, cols, seed);
            for (const [r, c, v] of sets) {
              await a.set(r % rows, c % cols, v);
              ra.set(r % rows, c % cols, v);
            }
            const b = await space.fromMatrix(reference(cols, inner, seed + 1), tile);
            const rb = reference(cols, inner, seed + 1);
            // (a * factor)^T^T x b + 0, as a chain of distributed ops.
            const scaled = await a.scale(factor);
            const tt = await (await scaled.transpose()).transpose();
            const product = await tt.multiply(b);
            const expected = Matrix.mul(ra, factor).mmul(rb);
            const diff = maxRelDiff(await product.toMatrix(), expected);
            const sum = await product.sum();
            const sumDiff = Math.abs(sum - expected.sum()) / Math.max(1, Math.abs(expected.sum()));
            const sumAdd = await (await a.add(a)).sum();
            const addDiff = Math.abs(sumAdd - 2 * ra.sum()) / Math.max(1, Math.abs(ra.sum()));
            for (const m of [a, b, scaled, tt, product]) await m.free();
            if (!(diff < 1e-9 && sumDiff < 1e-9 && addDiff < 1e-9)) failures.push(`${rows}x${cols}x${inner}/${tile}: ${diff} ${sumDiff} ${addDiff}`);
            return diff < 1e-9 && sumDiff < 1e-9 && addDiff < 1e-9;
          },
        ),
        { numRuns: 40, seed: 7 },
      );
      return { failures, nodes: space.nodes().length, matrices: space.stats.matrices };
    });
    expect(value.failures).toEqual([]);
    // Every matrix of every run was freed (the sums' temporaries are collected or left to close()).
    expect(value.nodes).toBeLessThanOrEqual(3);
  }, 300_000);
});
