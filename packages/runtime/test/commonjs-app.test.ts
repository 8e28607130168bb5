/**
 * An app made by `npm init -y` is CommonJS. Plain tsx compiles its ebbrt.config.ts as CommonJS,
 * which cannot require() the ESM-only @ebbrt packages: the load must fail saying what to change.
 * With the runtime's hook (what the ebbrt CLI installs), the same config loads as an ES module.
 * Each case runs in a child Node process (loader hooks are process-wide; vitest has its own).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', 'src');

function child(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b: Buffer) => (output += b.toString()));
    p.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('a CommonJS app (npm init -y) with an ebbrt.config.ts', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /**
   * Outside the workspace, with an installed @ebbrt/runtime shaped as published (ESM only:
   * `exports` has `types` and `import`, no `require`); a stand-in, so no build is needed.
   */
  function cjsApp(): string {
    dir = mkdtempSync(join(tmpdir(), 'ebbrt-cjs-app-'));
    const pkg = join(dir, 'node_modules', '@ebbrt', 'runtime');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@ebbrt/runtime', version: '0.1.0', type: 'module', exports: { '.': { types: './index.d.ts', import: './index.js' } } }));
    writeFileSync(join(pkg, 'index.js'), 'export const defineConfig = (config) => config;\n');
    writeFileSync(join(pkg, 'index.d.ts'), 'export declare const defineConfig: <T>(config: T) => T;\n');
    // What npm init -y writes: no "type", so CommonJS.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cjs-app', version: '1.0.0', main: 'index.js', license: 'ISC' }));
    writeFileSync(
      join(dir, 'ebbrt.config.ts'),
      "import { defineConfig } from '@ebbrt/runtime';\nexport default defineConfig({ name: 'cjs-app', entry: { backend: './main.ts' }, backend: { nodes: 1, machine: { cores: 1, memory: '4MiB' } } });\n",
    );
    return dir;
  }

  const load = (dir: string, hook: boolean): string => `
    ${hook ? `(await import(${JSON.stringify(join(src, 'config', 'app-typescript.ts'))})).registerAppEsmHook();` : ''}
    const { loadConfig } = await import(${JSON.stringify(join(src, 'config', 'load-config.ts'))});
    try { const { config } = await loadConfig(${JSON.stringify(dir)}, 'ebbrt.config.ts'); console.log('LOADED ' + config.name); }
    catch (e) { console.log('FAILED ' + e.message); }
  `;

  it('without the hook, the load fails naming the cause and the fix', async () => {
    const r = await child(load(cjsApp(), false));
    expect(r.output).toMatch(/FAILED .*ebbrt\.config\.ts was loaded as CommonJS \(its package\.json has no "type": "module"\)/);
    expect(r.output).toMatch(/add "type": "module"|ebbrt\.config\.mts/);
  }, 90_000);

  it("with the runtime's hook (the ebbrt CLI's), it loads as an ES module", async () => {
    const r = await child(load(cjsApp(), true));
    expect(r.output).toContain('LOADED cjs-app');
  }, 90_000);
});
