import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModuleCache } from '../src/index.js';
import { importUrl } from '../src/resolve/module-cache.js';
import { tempApp } from './temp-app.js';

const HERE = dirname(fileURLToPath(import.meta.url));

describe('ModuleCache', () => {
  it('loads once per key and keeps nothing between caches', async () => {
    const a = new ModuleCache();
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    expect(await a.once('k', load)).toBe(1);
    expect(await a.once('k', load)).toBe(1);
    expect(await a.once('other', load)).toBe(2);
    // A second owner (another run) starts empty: nothing is process-wide.
    expect(await new ModuleCache().once('k', load)).toBe(3);
  });

  it('forgets a failed load, so a fixed file is loaded again', async () => {
    const cache = new ModuleCache();
    let attempt = 0;
    const load = async (): Promise<string> => {
      attempt++;
      if (attempt === 1) throw new Error('broken');
      return 'fixed';
    };
    await expect(cache.once('k', load)).rejects.toThrow('broken');
    expect(await cache.once('k', load)).toBe('fixed');
    expect(attempt).toBe(2);
  });
});

describe('importUrl (the process-wide import table)', () => {
  it('hands back the namespace Node gave for a URL, evaluated once', async () => {
    const app = tempApp({}, { 'once.mjs': 'globalThis.__onceLoads = (globalThis.__onceLoads ?? 0) + 1;\nexport const value = 42;\n' });
    try {
      const url = pathToFileURL(join(app.dir, 'once.mjs')).href;
      const first = await importUrl<{ value: number }>(url);
      expect(first.value).toBe(42);
      expect(await importUrl(url)).toBe(first);
      expect(await import(url)).toBe(first);
      expect((globalThis as { __onceLoads?: number }).__onceLoads).toBe(1);
    } finally {
      app.remove();
    }
  });

  it('forgets a failed import, so a file created later loads (plain Node under tsx, as `ebbrt` runs)', () => {
    // vitest's own module runner keeps a failed import, unlike Node: check in a child process.
    const app = tempApp({});
    try {
      const script = join(app.dir, 'late.ts');
      writeFileSync(
        script,
        [
          `import { writeFileSync } from 'node:fs';`,
          `import { importUrl } from ${JSON.stringify(pathToFileURL(join(HERE, '../src/resolve/module-cache.ts')).href)};`,
          `const file = ${JSON.stringify(join(app.dir, 'late.mjs'))};`,
          `const url = ${JSON.stringify(pathToFileURL(join(app.dir, 'late.mjs')).href)};`,
          `const first = await importUrl(url).then(() => 'loaded', (e) => e.code);`,
          `writeFileSync(file, 'export const value = 7;');`,
          `const second = await importUrl(url);`,
          `console.log(JSON.stringify([first, second.value]));`,
        ].join('\n'),
      );
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=source', script], { cwd: HERE, encoding: 'utf8' });
      expect(JSON.parse(out.trim())).toEqual(['ERR_MODULE_NOT_FOUND', 7]);
    } finally {
      app.remove();
    }
  });
});
