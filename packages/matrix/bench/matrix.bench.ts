/**
 * The matrix Ebb against ml-matrix, side by side in one run: a 2048x2048 multiply and sum with
 * ml-matrix in this process, our tile kernel in this process (to separate the kernel's gain
 * from distribution's), and the matrix Ebb on 1, 2 and 4 nodes of the process-per-node platform
 * (`packed(n)`: n node processes shared by A, B and the product, 512-tiles). Also: node
 * allocation's share of the time, cold and from a dormant pool, and what the Messenger costs per
 * tile moved (a 2 MiB tile, front-end <-> node process, and node <-> node inside a multiply).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport, BenchResult } from '@ebbrt/bench-kit';
import { runApp, type AppContext } from '@ebbrt/runtime';
import { Matrix } from 'ml-matrix';
import { gemmAccumulate, MatrixSpace, packed, randomAt, type Placement } from '../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const N = Number(process.env.EBBRT_BENCH_MATRIX_N ?? 2048);
const TILE = 512;
const HOOK = Symbol.for('ebbrt.matrix.bench.main');
type WithHook = typeof globalThis & { [HOOK]?: (ctx: AppContext) => Promise<void> };

interface EbbRun {
  nodes: number;
  pool: boolean;
  firstTouchMs: number;
  secondRandomMs: number;
  multiplyMs: number;
  sumMs: number;
  tilesMoved: number;
  bytesMoved: number;
  readTileMs: number;
  writeTileMs: number;
  sum: number;
}

function randomMatrix(seed: number): Matrix {
  const m = new Matrix(N, N);
  for (let r = 0; r < N; r++) for (let c = 0; c < N; c++) m.set(r, c, randomAt(seed, r, c));
  return m;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function ebb(nodes: number, pool: boolean): Promise<EbbRun> {
  const tmp = join(HERE, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'app-'));
  let result: EbbRun | undefined;
  let failure: unknown;
  try {
    const shape = { cores: 1, memoryBytes: 64 << 20 };
    writeFileSync(
      join(dir, 'ebbrt.config.json'),
      JSON.stringify({
        entry: { frontend: './frontend.mjs' },
        clock: 'realtime',
        backend: { nodes: 0, platform: 'process', machine: { cores: 1, memory: '64MiB' } },
        frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: pool ? { poolSize: nodes, poolShape: shape } : { poolSize: 0 } } } },
        network: {},
      }),
    );
    writeFileSync(join(dir, 'frontend.mjs'), `export function main(ctx) { return globalThis[Symbol.for('ebbrt.matrix.bench.main')](ctx); }\n`);
    (globalThis as WithHook)[HOOK] = async (ctx) => {
      try {
        if (pool) {
          // Let the dormant pool fill (its nodes are booted processes), as a warm front-end would be.
          const { EbbRef } = await import('@ebbrt/core-translation');
          const { SystemEbbIds } = await import('@ebbrt/interfaces');
          const timer = new EbbRef<import('@ebbrt/interfaces').Timer>(SystemEbbIds.Timer).deref();
          await timer.sleep(8_000_000);
        }
        const space = new MatrixSpace({ tileSize: TILE, placement: packed(nodes), post: ctx.post, nodeShape: shape });
        let t = performance.now();
        const a = await space.random(N, N, 1); // allocates the n nodes on first touch
        const firstTouchMs = performance.now() - t;
        t = performance.now();
        const b = await space.random(N, N, 2); // same slots: no allocation
        const secondRandomMs = performance.now() - t;
        const moved0 = { tiles: space.stats.tilesMoved, bytes: space.stats.bytesMoved };
        t = performance.now();
        const c = await a.multiply(b);
        const multiplyMs = performance.now() - t;
        const tilesMoved = space.stats.tilesMoved - moved0.tiles;
        const bytesMoved = space.stats.bytesMoved - moved0.bytes;
        const sums: number[] = [];
        let sum = 0;
        for (let i = 0; i < 5; i++) {
          t = performance.now();
          sum = await c.sum();
          sums.push(performance.now() - t);
        }
        // The Messenger per 2 MiB tile, front-end <-> node process: one read, one write, sequential.
        const reads: number[] = [];
        const writes: number[] = [];
        for (let i = 0; i < 9; i++) {
          t = performance.now();
          const tile = await a.readTile(0, i % (N / TILE));
          reads.push(performance.now() - t);
          t = performance.now();
          await a.writeTile(0, i % (N / TILE), tile);
          writes.push(performance.now() - t);
        }
        await space.close();
        result = { nodes, pool, firstTouchMs, secondRandomMs, multiplyMs, sumMs: median(sums), tilesMoved, bytesMoved, readTileMs: median(reads), writeTileMs: median(writes), sum };
      } catch (error) {
        failure = error;
      }
    };
    const lines: string[] = [];
    const run = await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [ROOT], signal: AbortSignal.timeout(600_000) });
    if (failure !== undefined) throw failure;
    if (result === undefined || run.failures.length > 0) throw new Error(`matrix bench on ${nodes} nodes failed:\n${lines.join('\n')}`);
    return result;
  } finally {
    delete (globalThis as WithHook)[HOOK];
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What one node -> node tile move costs: a placement that puts the source matrix on two nodes
 * and every transpose of it on two others, so every tile moves. Tile nodes run the package's
 * image with a wall clock; each job's window runs from its `expect` arriving to its result being
 * stored: the 2 MiB tile's trip from the other node process (the transpose itself is ~1 ms). The
 * first transpose opens the node -> node connections (cold); the later ones reuse them (warm).
 */
async function moveCost(): Promise<{ coldMs: number; warmMs: number; samples: number }> {
  const tmp = join(HERE, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'app-'));
  const image = fileURLToPath(new URL('../src/node-image.ts', import.meta.url));
  let result: { coldMs: number; warmMs: number; samples: number } | undefined;
  let failure: unknown;
  try {
    writeFileSync(
      join(dir, 'ebbrt.config.json'),
      JSON.stringify({
        entry: { frontend: './frontend.mjs' },
        clock: 'realtime',
        backend: { nodes: 0, platform: 'process', machine: { cores: 1, memory: '64MiB' } },
        network: {},
      }),
    );
    writeFileSync(join(dir, 'frontend.mjs'), `export function main(ctx) { return globalThis[Symbol.for('ebbrt.matrix.bench.main')](ctx); }\n`);
    writeFileSync(
      join(dir, 'timed-image.mjs'),
      `import { installTileNode } from ${JSON.stringify(image)};\nexport function main(ctx) { installTileNode(ctx.node, { clock: () => performance.timeOrigin + performance.now() }); }\n`,
    );
    (globalThis as WithHook)[HOOK] = async (ctx) => {
      try {
        // Matrix #1 (the source) on nodes "s0", "s1"; every other matrix on "d0", "d1".
        const placement: Placement = { name: 'bench-split', slot: (m, t, i, j) => `${m === 1 ? 's' : 'd'}${t.key(i, j) % 2}`, newNodes: (tiles, held) => Math.max(0, Math.min(tiles, 4) - held) };
        const space = new MatrixSpace({ tileSize: TILE, placement, post: ctx.post, image: './timed-image.mjs', nodeShape: { cores: 1, memoryBytes: 64 << 20 } });
        const x = await space.random(TILE, 2 * TILE, 1);
        const keep = await space.random(1, 2 * TILE, 0); // holds both "d" nodes so the destinations stay up between transposes
        const cold: number[] = [];
        const warm: number[] = [];
        for (let i = 0; i < 6; i++) {
          const t = await x.transpose();
          for (const n of t.nodes()) {
            const w = await space.jobWindows(n);
            const [s, e] = w[w.length - 1]!;
            (i === 0 ? cold : warm).push(e - s);
          }
          await t.free();
        }
        await keep.free();
        await space.close();
        result = { coldMs: median(cold), warmMs: median(warm), samples: warm.length };
      } catch (error) {
        failure = error;
      }
    };
    const lines: string[] = [];
    await runApp(dir, { output: (l) => lines.push(l), resolveFrom: [ROOT], signal: AbortSignal.timeout(300_000) });
    if (failure !== undefined) throw failure;
    if (result === undefined) throw new Error(`matrix move bench failed:\n${lines.join('\n')}`);
    return result;
  } finally {
    delete (globalThis as WithHook)[HOOK];
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<BenchReport> {
  const results: BenchResult[] = [];
  // ml-matrix in this process, on the same inputs.
  const ma = randomMatrix(1);
  const mb = randomMatrix(2);
  let t = performance.now();
  const mc = ma.mmul(mb);
  const mlMultiplyMs = performance.now() - t;
  const mlSums: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    mc.sum();
    mlSums.push(performance.now() - t);
  }
  const mlSumMs = median(mlSums);
  // Our tile kernel on the whole matrices, in this process: the kernel's share of the gain.
  const fa = Float64Array.from(ma.to1DArray());
  const fb = Float64Array.from(mb.to1DArray());
  const fc = new Float64Array(N * N);
  t = performance.now();
  gemmAccumulate(fa, fb, fc, N, N, N);
  const kernelMs = performance.now() - t;
  results.push(
    { name: `ml-matrix ${N}x${N} mmul, one process`, medianNs: mlMultiplyMs * 1e6, ms: mlMultiplyMs },
    { name: `ml-matrix ${N}x${N} sum, one process`, medianNs: mlSumMs * 1e6, ms: mlSumMs },
    { name: `matrix Ebb tile kernel on the whole ${N}x${N}, one process (no distribution)`, medianNs: kernelMs * 1e6, ms: kernelMs },
  );
  const runs: EbbRun[] = [];
  for (const nodes of [1, 2, 4]) runs.push(await ebb(nodes, false));
  const pooled = await ebb(2, true);
  const ratios: Record<string, number> = { 'kernel one process vs ml-matrix mmul (x faster)': mlMultiplyMs / kernelMs };
  for (const r of runs) {
    results.push(
      { name: `matrix Ebb ${N}x${N} multiply, ${r.nodes} node processes`, medianNs: r.multiplyMs * 1e6, ms: r.multiplyMs, tilesMoved: r.tilesMoved, MBMoved: r.bytesMoved / 2 ** 20 },
      { name: `matrix Ebb ${N}x${N} sum, ${r.nodes} node processes`, medianNs: r.sumMs * 1e6, ms: r.sumMs },
    );
    ratios[`multiply ${r.nodes} nodes vs ml-matrix (x faster)`] = mlMultiplyMs / r.multiplyMs;
    ratios[`sum ${r.nodes} nodes vs ml-matrix (x faster)`] = mlSumMs / r.sumMs;
  }
  // Allocation's share: the first random() allocates the nodes, the second does the same work on them.
  const share = (r: EbbRun): number => {
    const allocMs = Math.max(0, r.firstTouchMs - r.secondRandomMs);
    return allocMs / (r.firstTouchMs + r.secondRandomMs + r.multiplyMs + r.sumMs);
  };
  const cold2 = runs[1]!;
  results.push(
    { name: 'node allocation (2 nodes) cold: first touch minus the same op on allocated nodes', medianNs: Math.max(0, cold2.firstTouchMs - cold2.secondRandomMs) * 1e6, share: share(cold2) },
    { name: 'node allocation (2 nodes) from the dormant pool', medianNs: Math.max(0, pooled.firstTouchMs - pooled.secondRandomMs) * 1e6, share: share(pooled) },
  );
  ratios['allocation share of random+random+multiply+sum, 2 nodes cold'] = share(cold2);
  ratios['allocation share, 2 nodes from the pool'] = share(pooled);
  const tileMiB = (TILE * TILE * 8) / 2 ** 20;
  const p = runs[1]!;
  results.push(
    { name: `Messenger: read one ${tileMiB} MiB tile, node process -> front-end`, medianNs: p.readTileMs * 1e6, MBps: tileMiB / (p.readTileMs / 1000) },
    { name: `Messenger: write one ${tileMiB} MiB tile, front-end -> node process`, medianNs: p.writeTileMs * 1e6, MBps: tileMiB / (p.writeTileMs / 1000) },
  );
  const move = await moveCost();
  results.push(
    { name: `Messenger: move one ${tileMiB} MiB tile node process -> node process, warm connection (${move.samples} moves)`, medianNs: move.warmMs * 1e6, MBps: tileMiB / (move.warmMs / 1000) },
    { name: `Messenger: move one ${tileMiB} MiB tile node process -> node process, first contact`, medianNs: move.coldMs * 1e6, MBps: tileMiB / (move.coldMs / 1000) },
  );
  ratios['node -> node tile move (warm) vs front-end -> node tile write'] = move.warmMs / p.writeTileMs;
  ratios['multiply 2 nodes vs 1 node (x faster)'] = runs[0]!.multiplyMs / p.multiplyMs;
  ratios['multiply 4 nodes vs 1 node (x faster)'] = runs[0]!.multiplyMs / runs[2]!.multiplyMs;
  const exact = runs.every((r) => r.sum === runs[0]!.sum);
  return {
    name: `matrix Ebb vs ml-matrix, ${N}x${N}, process-per-node platform`,
    results,
    ratios,
    notes: [
      `every run's product sums to the same bits: ${exact} (${runs[0]!.sum}); ml-matrix: ${mc.sum()}`,
      `node <-> node tiles moved in the multiply: ${runs.map((r) => `${r.nodes} nodes: ${r.tilesMoved}`).join(', ')} (${tileMiB} MiB each); a tile on the node that needs it is handed over in-process`,
      'the Messenger per tile row is the same path a node -> node move takes in one direction (two simulated TCP stacks, a gateway each side, loopback TCP between the processes)',
      'the machine has 2 cores shared with other work: 4 node processes cannot beat 2',
    ],
  };
}
