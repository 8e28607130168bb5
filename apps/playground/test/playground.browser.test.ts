/**
 * Determinism across JavaScript engines' event loops: the playground's run of a seed in headless
 * Chromium (the built static folder, served on loopback) gives the same trace digest as the same
 * simulation under Node. Chromium is Debian's chromium-headless-shell driven by playwright-core;
 * without it the test skips with a printed reason, except under CI=true, where it fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKvDemo } from '../src/kv-demo.js';

const CHROMIUM = process.env.EBBRT_CHROMIUM ?? '/usr/bin/chromium-headless-shell';
const have = existsSync(CHROMIUM);
if (!have) {
  const why = `playground browser test: ${CHROMIUM} not found (apt-get install chromium-headless-shell)`;
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`skipped: ${why}`);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json', '.png': 'image/png' };

/** A static file server for `dir` on 127.0.0.1 (what "any static host" means here). */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/` });
  }));
}

describe.skipIf(!have)('playground in headless Chromium', () => {
  let dir = '';
  let browser: Browser;
  let site: { server: Server; url: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ebbrt-playground-'));
    execFileSync(process.execPath, [join(__dirname, '../scripts/build.mjs'), dir], { stdio: 'pipe' });
    site = await serve(dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => site?.server.close(r));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  for (const [seed, loss, latencyUs] of [
    [5, 0.02, 50],
    [11, 0.08, 400],
  ] as const) {
    it(`seed ${seed}, loss ${loss}, latency ${latencyUs} µs: same trace digest in Chromium as in Node`, async () => {
      const node = await runKvDemo({ seed, loss, latencyNs: latencyUs * 1000, nodes: 4 });
      expect(node.completed).toBe(node.expected);
      expect(node.mismatches).toBe(0);

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${site.url}?seed=${seed}&loss=${loss}&latencyUs=${latencyUs}&nodes=4&auto=1`);
      await page.waitForFunction(() => window.ebbrtResult !== undefined, undefined, { timeout: 90_000 });
      const got = await page.evaluate(() => window.ebbrtResult);
      expect(errors).toEqual([]);
      expect(got).not.toHaveProperty('error');
      if (got !== undefined && 'trace' in got && got.trace !== node.trace) {
        const a = node.trace.split('\n');
        const b = got.trace.split('\n');
        const i = a.findIndex((l, k) => l !== b[k]);
        throw new Error(`trace differs first at line ${i}:\n node:     ${a[i]}\n chromium: ${b[i]}`);
      }
      expect(got).toMatchObject({ digest: node.digest, completed: node.completed, traceEvents: node.traceEvents, finalTimeNs: node.finalTimeNs });
      // The live view shows the four nodes and each one's cores.
      expect(await page.locator('.live-view .node').count()).toBe(4);
      expect(await page.locator('.live-view .node[data-node="2"] .core').count()).toBe(2);
      expect(await page.locator('#digest').textContent()).toBe(node.digest);
      if (process.env.EBBRT_SCREENSHOTS !== undefined && seed === 5) await page.screenshot({ path: join(process.env.EBBRT_SCREENSHOTS, 'playground.png'), fullPage: true });
      await page.close();
    }, 180_000);
  }

  it('a different seed gives a different digest (the digest is not a constant)', async () => {
    const a = await runKvDemo({ seed: 5, loss: 0.02, latencyNs: 50_000, nodes: 4 });
    const b = await runKvDemo({ seed: 6, loss: 0.02, latencyNs: 50_000, nodes: 4 });
    expect(a.digest).not.toBe(b.digest);
  }, 60_000);
});
