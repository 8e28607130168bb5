/**
 * Test harness: boots an application whose front-end main is a function of the test, so a test
 * body runs on the front-end's core 0 with the real runtime, NodeAllocator and Messenger.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApp, type AppContext, type AppRun, type RunAppOptions } from '@ebbrt/runtime';

const TMP_ROOT = join(dirname(fileURLToPath(import.meta.url)), '.tmp');
const HOOK = Symbol.for('ebbrt.matrix.test.main');
type WithHook = typeof globalThis & { [HOOK]?: (ctx: AppContext) => unknown };

const FRONTEND = `export function main(ctx) { return globalThis[Symbol.for('ebbrt.matrix.test.main')](ctx); }\n`;

export interface ClusterOptions {
  clock?: 'realtime' | 'virtual';
  platform?: 'in-process' | 'process';
  /** Nodes booted by the config (running `backendImage`), beside those the test allocates. */
  nodes?: number;
  /** Options for the back-ends' Messenger (a static directory under the virtual clock). */
  messenger?: Record<string, unknown>;
  link?: Record<string, unknown>;
  seed?: number;
  nodeAllocator?: Record<string, unknown>;
  run?: RunAppOptions;
  /**
   * Runs the body on back-end node 1 instead of the front-end (every config node installs the
   * tile node type): for the virtual clock, where only back-ends talk over the Messenger.
   */
  onNode1?: boolean;
  /** Extra files for the app directory (e.g. a tile node image). */
  files?: Record<string, string>;
}

/** The package's tile node image, from source. */
export const IMAGE = fileURLToPath(new URL('../src/node-image.ts', import.meta.url));
const BACKEND = `import { installTileNode } from ${JSON.stringify(IMAGE)};
export function main(ctx) {
  installTileNode(ctx.node);
  if (ctx.node.id === 1) void globalThis[Symbol.for('ebbrt.matrix.test.main')](ctx);
}
`;

export interface ClusterResult<T> {
  value: T;
  /** The app directory (gone once the run has ended). */
  dir: string;
  run: AppRun;
  lines: string[];
}

/** Runs `body` as the front-end's main; resolves with its value once the app has ended. */
export async function withFrontend<T>(options: ClusterOptions, body: (ctx: AppContext) => Promise<T>): Promise<ClusterResult<T>> {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TMP_ROOT, 'app-'));
  const config: Record<string, unknown> = {
    entry: options.onNode1 ? { backend: './backend.mjs' } : { frontend: './frontend.mjs' },
    clock: options.clock ?? 'realtime',
    seed: options.seed ?? 1,
    backend: {
      nodes: options.nodes ?? 0,
      platform: options.platform ?? 'in-process',
      machine: { cores: 1, memory: '16MiB' },
      ...(options.messenger !== undefined ? { ebbs: { Messenger: { package: '@ebbrt/messenger', options: options.messenger } } } : {}),
    },
    network: { subnet: '10.0.0.0/24', link: { latencyNs: 20_000, ...(options.link ?? {}) } },
    ...(options.nodeAllocator !== undefined ? { frontend: { ebbs: { NodeAllocator: { package: '@ebbrt/node-allocator', options: options.nodeAllocator } } } } : {}),
  };
  writeFileSync(join(dir, 'ebbrt.config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'frontend.mjs'), FRONTEND);
  writeFileSync(join(dir, 'backend.mjs'), BACKEND);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  const lines: string[] = [];
  let value: T | undefined;
  let failure: { error: unknown } | undefined;
  (globalThis as WithHook)[HOOK] = async (ctx) => {
    try {
      value = await body(Object.assign(Object.create(ctx) as AppContext, { appDir: dir }));
    } catch (error) {
      failure = { error };
    }
  };
  try {
    const run = await runApp(dir, {
      output: (l) => lines.push(l),
      resolveFrom: [process.cwd()],
      signal: AbortSignal.timeout(240_000),
      ...options.run,
    });
    if (failure !== undefined) throw failure.error;
    return { value: value as T, dir, run, lines };
  } finally {
    delete (globalThis as WithHook)[HOOK];
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seeds to run: just EBBRT_SEED when set, else 1..n (3 with EBBRT_QUICK). */
export function seeds(n: number): number[] {
  const one = process.env.EBBRT_SEED;
  if (one !== undefined && one !== '') return [Number(one)];
  return Array.from({ length: process.env.EBBRT_QUICK ? Math.min(3, n) : n }, (_, i) => i + 1);
}

/** Largest relative difference between two equal-shaped matrices (absolute near zero). */
export function maxRelDiff(a: { rows: number; columns: number; get(r: number, c: number): number }, b: { rows: number; columns: number; get(r: number, c: number): number }): number {
  if (a.rows !== b.rows || a.columns !== b.columns) return Infinity;
  let worst = 0;
  for (let r = 0; r < a.rows; r++) {
    for (let c = 0; c < a.columns; c++) {
      const x = a.get(r, c);
      const y = b.get(r, c);
      const d = Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y));
      if (!(d <= worst)) worst = d;
    }
  }
  return worst;
}
