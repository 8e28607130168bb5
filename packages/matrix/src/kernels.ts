/**
 * Tile kernels: tight loops over row-major Float64Arrays, no allocation inside a loop. A tile of
 * `rows x cols` stores element (r, c) at `r * cols + c`.
 */

/** `c += a * b` for a (m x k), b (k x n), c (m x n): i-p-j order, so the inner loop streams rows of b and c. */
export function gemmAccumulate(a: Float64Array, b: Float64Array, c: Float64Array, m: number, k: number, n: number): void {
  // Block p so a band of b's rows stays in cache while every row of a sweeps it.
  const PB = 64;
  for (let p0 = 0; p0 < k; p0 += PB) {
    const p1 = p0 + PB < k ? p0 + PB : k;
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      const ai = i * k;
      let p = p0;
      // Two rows of b per pass over a row of c: half the loads and stores of c.
      for (; p + 1 < p1; p += 2) {
        const x = a[ai + p]!;
        const y = a[ai + p + 1]!;
        if (x === 0 && y === 0) continue;
        const b0 = p * n;
        const b1 = b0 + n;
        for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + x * b[b0 + j]! + y * b[b1 + j]!;
      }
      if (p < p1) {
        const x = a[ai + p]!;
        if (x !== 0) {
          const b0 = p * n;
          for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + x * b[b0 + j]!;
        }
      }
    }
  }
}

/** Sum of every element, with Kahan-Babuska (Neumaier) compensation so tiling barely moves the result. */
export function sumTile(a: Float64Array): number {
  let s = 0;
  let comp = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const t = s + x;
    comp += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + comp;
}

/** `out = a + b`, element-wise. `out` may alias `a` or `b`. */
export function addTiles(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
}

/** `out = a * s`. `out` may alias `a`. */
export function scaleTile(a: Float64Array, s: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i]! * s;
}

/** `out` (cols x rows) = transpose of `a` (rows x cols), in 32x32 blocks to keep both sides in cache. */
export function transposeTile(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = r0 + B < rows ? r0 + B : rows;
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = c0 + B < cols ? c0 + B : cols;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
      }
    }
  }
}

/**
 * The seeded value of element (row, col) of a randomized matrix: a counter-based hash
 * (splitmix32 rounds over seed, row and column), uniform in [0, 1). A function of the element's
 * position only, so the result does not depend on the tile size, the placement or the order
 * tiles are filled in, and the front-end can recompute any element to check a node.
 */
export function randomAt(seed: number, row: number, col: number): number {
  let h = mix32((seed | 0) ^ 0x9e3779b9);
  h = mix32(h ^ (row % 0x100000000));
  h = mix32(h ^ Math.floor(row / 0x100000000));
  h = mix32(h ^ (col % 0x100000000));
  h = mix32(h ^ Math.floor(col / 0x100000000));
  const lo = mix32(h ^ 0x85ebca6b);
  // 53 random bits: 21 from h, 32 from lo.
  return ((h >>> 11) * 0x100000000 + lo) / 2 ** 53;
}

function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Fills a tile whose element (0, 0) is matrix element (row0, col0) with {@link randomAt}. */
export function randomizeTile(out: Float64Array, rows: number, cols: number, row0: number, col0: number, seed: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = randomAt(seed, row0 + r, col0 + c);
  }
}
