/**
 * A distributed matrix handed to code written against ml-matrix's AbstractMatrix: a synchronous
 * snapshot from `view()`, whose writes reach the tile nodes on `sync()` (only the tiles written).
 */
import { AbstractMatrix, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { MatrixError, MatrixSpace, MatrixView } from '../src/index.js';
import { maxRelDiff, withFrontend } from './cluster.js';

describe('MatrixView: a DistMatrix where ml-matrix expects an AbstractMatrix', () => {
  it('reads synchronously, works with ml-matrix algorithms, and writes back changed tiles on sync()', async () => {
    const { value } = await withFrontend({}, async (ctx) => {
      const space = new MatrixSpace({ tileSize: 5, post: ctx.post });
      const dm = await space.random(12, 9, 4);
      const local = await dm.toMatrix();
      const v = await dm.view();
      const isAbstract = v instanceof AbstractMatrix && AbstractMatrix.isMatrix(v);
      // Generic ml-matrix code on the view: products, norms, an SVD.
      const gram = v.transpose().mmul(v);
      const svd = new SingularValueDecomposition(v);
      const svdLocal = new SingularValueDecomposition(local);
      v.set(0, 0, 100).set(11, 8, -3);
      const dirty = v.dirtyTiles;
      const beforeSync = await dm.get(0, 0);
      await v.sync();
      const after = [await dm.get(0, 0), await dm.get(11, 8), await dm.get(5, 5)];
      const bad = await dm.view().then(() => 'ok', () => 'rejected');
      const huge = await space.zeros(1e5, 1e5).view().then(() => 'ok', (e: unknown) => (e instanceof MatrixError ? e.message : String(e)));
      await space.close();
      return { isAbstract, gramDiff: maxRelDiff(gram, local.transpose().mmul(local)), svdDiff: maxRelDiff(Matrix.rowVector(svd.diagonal), Matrix.rowVector(svdLocal.diagonal)), dirty, beforeSync, orig: local.get(0, 0), after, local55: local.get(5, 5), bad, huge, viewClass: v.constructor === MatrixView };
    });
    expect(value.isAbstract).toBe(true);
    expect(value.viewClass).toBe(true);
    expect(value.gramDiff).toBeLessThan(1e-12);
    expect(value.svdDiff).toBeLessThan(1e-9);
    expect(value.dirty).toBe(2); // tile (0, 0) and tile (2, 1)
    expect(value.beforeSync).toBe(value.orig);
    expect(value.after).toEqual([100, -3, value.local55]);
    expect(value.bad).toBe('ok');
    expect(value.huge).toMatch(/does not fit in one process/);
  }, 120_000);
});
