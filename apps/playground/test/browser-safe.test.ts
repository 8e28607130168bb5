/**
 * The simulation packages must run in a browser tab: each entry is bundled by esbuild for the
 * browser platform (which refuses `node:*` builtins), and the bundle is scanned for Node-only
 * globals that esbuild lets through (process, Buffer, setImmediate, require, __dirname).
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BROWSER_SAFE = [
  '@ebbrt/hw-x86sim',
  '@ebbrt/core-translation',
  '@ebbrt/event-manager',
  '@ebbrt/event-manager/timer',
  '@ebbrt/memory-allocator-slqb',
  '@ebbrt/memory-allocator-simple',
  '@ebbrt/network-manager-lwip',
  '@ebbrt/messenger',
  '@ebbrt/interfaces',
];

/** Node globals used bare (not looked up on globalThis behind a typeof test). */
const NODE_GLOBAL = /(?<![.\w$'"])(process\s*\.|Buffer\s*\.|setImmediate\s*\(|clearImmediate\s*\(|require\s*\(|__dirname|__filename)/;

async function bundle(source: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbrt-browser-'));
  try {
    const entry = join(__dirname, `.entry-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(entry, source);
    try {
      const r = await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        conditions: ['source'],
        write: false,
        logLevel: 'silent',
        outdir: dir,
      });
      return r.outputFiles.map((f) => f.text).join('\n');
    } finally {
      rmSync(entry, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nodeGlobalUse(code: string): string | undefined {
  for (const line of code.split('\n')) {
    const t = line.trim();
    if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) continue;
    const m = NODE_GLOBAL.exec(line);
    if (m !== null) return `${m[0]} in: ${t.slice(0, 160)}`;
  }
  return undefined;
}

describe('browser-safe simulation packages', () => {
  for (const spec of BROWSER_SAFE) {
    it(`${spec} bundles for the browser with no Node API`, async () => {
      const code = await bundle(`export * from '${spec}';\n`);
      expect(code.length).toBeGreaterThan(100);
      expect(nodeGlobalUse(code)).toBeUndefined();
    }, 60_000);
  }

  it('the check fails when a Node builtin creeps in (import of node:fs)', async () => {
    await expect(bundle(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`)).rejects.toThrow(/node:fs/);
  }, 60_000);

  it('the check fails on a bare Node global (process.stdout)', () => {
    expect(nodeGlobalUse(`function f() {\n  process.stdout.write("x");\n}`)).toMatch(/process/);
    expect(nodeGlobalUse(`setImmediate(step);`)).toMatch(/setImmediate/);
    expect(nodeGlobalUse(`const g = Reflect.get(globalThis, "setImmediate");`)).toBeUndefined();
  });

  it('the Node-only subpaths are where the Node APIs went', async () => {
    await expect(bundle(`export * from '@ebbrt/hw-x86sim/node';\n`)).rejects.toThrow(/node:(dgram|fs)/);
    await expect(bundle(`export * from '@ebbrt/core-translation/node';\n`)).rejects.toThrow(/node:async_hooks/);
  }, 60_000);
});
