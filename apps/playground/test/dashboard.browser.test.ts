/**
 * The `ebbrt run --ui` dashboard, in headless Chromium, on a 4-node app with a simulated network
 * and node↔node Messenger traffic (testkit's dashboard app: the distributed counter plus a ring
 * of pings).
 * - Realtime, in this process: the front-end (node 0) and 4 nodes with their cores' counters,
 *   rising, and a blocked event shown late by the watchdog; NIC counters, live TCP connections and graph edges (node↔node and node 0's); the
 *   trace panel streams rows, filters by node and core, and freezes; pause is refused with a
 *   reason; a node killed from outside turns dead on the page within a second.
 * - The trace panel's one timeline, on a scripted server: rows that arrive late (a remote node's)
 *   are shown among the earlier ones by time; the gateway is named; a node's dropped events show.
 * - Virtual clock, the real CLI with `--ui-paused`: the run waits before its first slice; Step n
 *   advances the slice counter and the trace by exactly n slices; bad input is refused on the
 *   page; Resume runs on; Pause stops the counters and the trace again.
 * Debian's chromium-headless-shell through playwright-core; skipped with a printed reason when
 * missing, except under CI=true.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runApp, startRunUi, type StartedRun } from '@ebbrt/runtime';
import { TraceRing, type LiveSnapshot } from '@ebbrt/live-view';
import { startLiveViewServer } from '@ebbrt/live-view/node';
import { DASHBOARD_NODES, writeDashboardApp } from '@ebbrt/testkit/dashboard-app';

const CHROMIUM = process.env.EBBRT_CHROMIUM ?? '/usr/bin/chromium-headless-shell';
const have = existsSync(CHROMIUM);
if (!have) {
  const why = `dashboard browser test: ${CHROMIUM} not found (apt-get install chromium-headless-shell)`;
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`skipped: ${why}`);
}
const ROOT = join(__dirname, '../../..');
const TMP = join(__dirname, '.tmp');
const BACKENDS = Array.from({ length: DASHBOARD_NODES }, (_, i) => i + 1);

const slices = (page: Page): Promise<number> => page.locator('.counter[data-counter="slices"]').textContent().then(Number);
/** The newest event on screen by stream order (rows are ordered by time, so not always the last row). */
const lastSeq = (page: Page): Promise<number> => page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('#trace-rows .ev')].map((r) => Number(r.getAttribute('data-seq')))));
/** The rows on screen as [node, ts]. */
const traceRows = (page: Page): Promise<[string, number][]> => page.locator('#trace-rows .ev').evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-node') ?? '', Number(r.getAttribute('data-ts'))] as [string, number]));
const sliceRows = (page: Page): Promise<number> => page.locator('#trace-rows .ev[data-name="slice"]').count();
const edgeTitles = (page: Page): Promise<string[]> => page.locator('svg.graph line title').allTextContents();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!have)('ebbrt run --ui dashboard in headless Chromium', () => {
  it('realtime: node 0 and 4 nodes with rising core counters, NIC, TCP, edges, a filterable trace; a killed node turns dead within a second', async () => {
    mkdirSync(TMP, { recursive: true });
    const app = writeDashboardApp(TMP, 'realtime');
    const abort = new AbortController();
    let started!: (r: StartedRun) => void;
    const startedP = new Promise<StartedRun>((r) => (started = r));
    const runP = runApp(app.dir, { output: () => undefined, resolveFrom: [process.cwd()], signal: abort.signal, onStarted: (r) => started(r) });
    const run = await startedP;
    const ui = await startRunUi(run, 0, 'realtime', '4-node counter + ring (realtime)');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(ui.url);
      await page.waitForFunction((n) => document.querySelectorAll('.live-view .node[data-role="backend"][data-state="allocated"]').length === n, DASHBOARD_NODES, { timeout: 30_000 });
      // Node 0, the front-end, is on the page with its Ebbs; then the 4 back-ends with 2 cores each.
      const front = page.locator('.live-view .node[data-node="0"]');
      expect(await front.getAttribute('data-role')).toBe('frontend');
      expect(await front.locator('details').innerHTML()).toContain('@ebbrt/node-allocator');
      expect(await page.locator('.live-view .node').count()).toBe(DASHBOARD_NODES + 1);
      for (const id of BACKENDS) {
        const card = page.locator(`.live-view .node[data-node="${id}"]`);
        expect(await card.locator('.core').count()).toBe(2);
        expect(await card.locator('details').innerHTML()).toContain('@ebbrt/memory-allocator-slqb');
        expect(await card.textContent()).toMatch(/memory [\d.]+ MiB used of [\d.]+ MiB/);
      }
      // Cores panel: every back-end core reports events/s and idle %, and some core is dispatching.
      await page.waitForFunction(() => [...document.querySelectorAll('.node[data-role="backend"] tr.core')].filter((r) => Number(r.getAttribute('data-events-per-sec')) > 0).length >= 4, undefined, { timeout: 15_000 });
      for (const id of BACKENDS) {
        const rows = page.locator(`.live-view .node[data-node="${id}"] tr.core`);
        for (const r of await rows.all()) {
          expect(Number(await r.getAttribute('data-idle'))).toBeGreaterThanOrEqual(0);
          expect(Number(await r.getAttribute('data-queued'))).toBeGreaterThanOrEqual(0);
        }
      }
      // Counters rise while the app runs: world slices, and every back-end's events and core slices.
      const first = await slices(page);
      const nodeCounts = (): Promise<number[][]> => page.evaluate((ids) => ids.map((id) => [Number(document.querySelector(`.node[data-node="${id}"] .events`)?.textContent), ...[...document.querySelectorAll(`.node[data-node="${id}"] tr.core`)].map((r) => Number(r.getAttribute('data-slices')))]), BACKENDS);
      const before = await nodeCounts();
      for (const counts of before) expect(counts.every((c) => Number.isFinite(c))).toBe(true);
      await page.waitForFunction(
        ([n, b, ids]) => Number(document.querySelector('.counter[data-counter="slices"]')?.textContent) > (n as number) &&
          (ids as number[]).every((id, i) => Number(document.querySelector(`.node[data-node="${id}"] .events`)?.textContent) > (b as number[][])[i]![0]! &&
            [...document.querySelectorAll(`.node[data-node="${id}"] tr.core`)].reduce((a, r) => a + Number(r.getAttribute('data-slices')), 0) > (b as number[][])[i]!.slice(1).reduce((a, x) => a + x, 0)),
        [first, before, BACKENDS] as const,
        { timeout: 15_000 },
      );
      // NIC counters and TCP connections on every back-end; Messenger edges node↔node and from/to node 0.
      await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`.node[data-node="${id}"] .conn[data-tcp="ESTABLISHED"]`) !== null), BACKENDS, { timeout: 15_000 });
      for (const id of BACKENDS) expect(Number(/rxFrames<\/b> (\d+)/.exec(await page.locator(`.node[data-node="${id}"] .nic`).innerHTML())?.[1])).toBeGreaterThan(0);
      // Node 0's card: the hosted stack's sockets (its Messenger's TCP connections to the
      // back-ends), the bytes Node moved on them rising, and its drop line; no NIC of its own.
      const frontKv = (k: string): Promise<number> => front.locator(`.stack .kv[data-k="${k}"]`).textContent().then((t) => Number(/ (\d+)$/.exec(t ?? '')?.[1]));
      await page.waitForFunction(() => document.querySelector('.node[data-node="0"] .conn[data-tcp="ESTABLISHED"]') !== null, undefined, { timeout: 15_000 });
      expect(await frontKv('tcp.connections')).toBe(await front.locator('.conn').count());
      expect(await frontKv('tcp.opened')).toBeGreaterThanOrEqual(await frontKv('tcp.connections'));
      const frontRead = await frontKv('tcp.bytesRead');
      expect(frontRead).toBeGreaterThan(0);
      await page.waitForFunction((b) => Number(/ (\d+)$/.exec(document.querySelector('.node[data-node="0"] .stack .kv[data-k="tcp.bytesRead"]')?.textContent ?? '')?.[1]) > b, frontRead, { timeout: 10_000 });
      expect(await front.locator('.nic').count()).toBe(0);
      expect(await front.locator('.drops').count()).toBe(1);
      // A back-end's stack line carries the lwIP stack's own counters (TCP segments).
      expect(await page.locator('.node[data-node="1"] .stack').innerHTML()).toMatch(/tcp\./);
      await page.waitForFunction(() => {
        const t = [...document.querySelectorAll('svg.graph line title')].map((e) => e.textContent ?? '');
        return ['1 → 2:', '2 → 3:', '3 → 4:', '4 → 1:', '0 → 1:', '1 → 0:'].every((p) => t.some((x) => x.startsWith(p)));
      }, undefined, { timeout: 15_000 });
      const titles = await edgeTitles(page);
      expect(titles.some((t) => /^2 → 3: [1-9]\d* messages/.test(t))).toBe(true);

      // Trace panel: rows stream in; filtering by node, then core, shows only those.
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev').length > 20, undefined, { timeout: 10_000 });
      // One timeline: the rows on screen are ordered by time. The network's gateway machine is
      // named, not "node ?", and can be picked in the node filter.
      await page.waitForSelector('#trace-rows .ev[data-node="gateway"]', { timeout: 10_000 });
      const timeline = await traceRows(page);
      expect(timeline.every(([, ts], i) => i === 0 || ts >= timeline[i - 1]![1])).toBe(true);
      expect(await page.locator('#trace-rows').textContent()).not.toContain('node ?');
      expect(await page.locator('#trace-rows .ev[data-node="gateway"]').first().textContent()).toMatch(/ms {2}gateway +core 0 /);
      expect(await page.locator('#trace-node option[value="gateway"]').textContent()).toBe('gateway');
      await page.selectOption('#trace-node', '3');
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev').length > 0, undefined, { timeout: 5000 });
      expect(new Set(await page.locator('#trace-rows .ev').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-node'))))).toEqual(new Set(['3']));
      await page.selectOption('#trace-core', '1');
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev').length > 0, undefined, { timeout: 5000 });
      expect(new Set(await page.locator('#trace-rows .ev').evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-node')}/${r.getAttribute('data-core')}`)))).toEqual(new Set(['3/1']));
      await page.selectOption('#trace-node', '');
      await page.selectOption('#trace-core', '');
      // Freezing the trace holds its rows while the run goes on; unfreezing catches up.
      await page.click('#trace-pause');
      const frozenAt = await lastSeq(page);
      const slicesAtFreeze = await slices(page);
      await sleep(800);
      expect(await lastSeq(page)).toBe(frozenAt);
      expect(await slices(page)).toBeGreaterThan(slicesAtFreeze);
      await page.click('#trace-pause');
      await page.waitForFunction((s) => Number(document.querySelector('#trace-rows .ev:last-child')?.getAttribute('data-seq')) > s, frozenAt, { timeout: 5000 });

      // Realtime: the simulation buttons are off with the reason, and the endpoint refuses.
      expect(await page.locator('#controls').getAttribute('data-available')).toBe('false');
      expect(await page.locator('#sim-state').textContent()).toContain('realtime clock');
      expect(await page.locator('#pause').isDisabled()).toBe(true);
      const refused = await page.evaluate(async () => {
        const r = await fetch('./control', { method: 'POST', body: '{"action":"pause"}' });
        return { status: r.status, body: (await r.json()) as { error: string } };
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatch(/pause needs the virtual clock: this run is realtime/);

      // The watchdog: the app's slowCheck event blocks 1 s on core 1; past 100 ms its row turns late.
      await page.waitForFunction(() => [...document.querySelectorAll('.node[data-role="backend"] tr.core.late')].some((r) => r.getAttribute('data-core') === '1' && r.querySelector('.oldest')?.textContent?.includes('slowCheck') === true && Number(r.getAttribute('data-oldest-ms')) > 100), undefined, { timeout: 15_000 });
      if (process.env.EBBRT_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.EBBRT_SCREENSHOTS, 'dashboard.png'), fullPage: true });
      const t0 = performance.now();
      run.platform.node(2)!.kill('pulled the plug');
      await page.waitForSelector('.live-view .node[data-node="2"][data-state="dead"]', { timeout: 1000 });
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(await page.locator('.live-view .node[data-node="2"] .cause').textContent()).toContain('pulled the plug');
      expect(await page.locator('.live-view .node[data-role="backend"][data-state="allocated"]').count()).toBe(DASHBOARD_NODES - 1);
      expect(await page.locator('.live-view svg.graph .gnode.dead').count()).toBe(1);
    } finally {
      await browser.close();
      await ui.close();
      abort.abort();
      run.simulation.stop();
      await runP.catch(() => undefined);
      app.remove();
    }
  }, 180_000);

  it('virtual clock, `ebbrt run --ui-paused`: waits paused; Step n runs exactly n slices; Resume runs on; Pause stops counters and trace', async () => {
    mkdirSync(TMP, { recursive: true });
    // Long enough that it is still running when the test ends; SIGTERM ends it.
    const app = writeDashboardApp(TMP, 'virtual', 100_000);
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), '--conditions=source', join(ROOT, 'packages/runtime/src/bin.ts'), 'run', app.dir, '--ui-paused'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const deadline = Date.now() + 60_000;
      while (!/live view at (http:\S+)/.test(out) && Date.now() < deadline && child.exitCode === null) await sleep(50);
      const url = /live view at (http:\S+)/.exec(out)?.[1];
      expect(url, out).toBeDefined();
      expect(out).toContain('paused before the first slice');
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(url!);
      // Titled by the app's name, not the temp dir's absolute path.
      expect(await page.title()).toBe('ebbrt run dashboard-demo');
      expect(await page.locator('h1').textContent()).toBe('ebbrt run dashboard-demo');
      await page.waitForSelector('#controls[data-available="true"][data-paused="true"]', { timeout: 30_000 });
      expect(await page.locator('.live-view .node').count()).toBe(DASHBOARD_NODES + 1);
      // Waiting for the page: nothing has run, and nothing runs while it waits.
      expect(await slices(page)).toBe(0);
      await sleep(800);
      expect(await slices(page)).toBe(0);
      expect(await page.locator('#trace-rows .ev').count()).toBe(0);
      expect(await page.locator('#pause').isDisabled()).toBe(true);

      const step = async (n: string): Promise<void> => {
        await page.fill('#steps', n);
        await page.click('#step');
      };
      await step('5');
      await page.waitForFunction(() => document.querySelector('.counter[data-counter="slices"]')?.textContent === '5', undefined, { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev[data-name="slice"]').length === 5, undefined, { timeout: 5000 });
      await sleep(600);
      expect(await slices(page)).toBe(5);
      expect(await sliceRows(page)).toBe(5);
      // Bad input is refused on the page and runs nothing.
      await step('abc');
      await page.waitForSelector('#control-status.error', { timeout: 5000 });
      expect(await page.locator('#control-status').textContent()).toContain('"steps" must be an integer in 1..1000000, got "abc"');
      await step('0');
      await page.waitForFunction(() => document.querySelector('#control-status')?.textContent?.includes('got 0') === true, undefined, { timeout: 5000 });
      await step('3');
      await page.waitForFunction(() => document.querySelector('.counter[data-counter="slices"]')?.textContent === '8', undefined, { timeout: 10_000 });
      await sleep(600);
      expect(await slices(page)).toBe(8);
      expect(await sliceRows(page)).toBe(8);
      if (process.env.EBBRT_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.EBBRT_SCREENSHOTS, 'dashboard-paused.png'), fullPage: true });

      // Resume: the run goes on (counters and trace move), node↔node edges appear.
      await page.click('#resume');
      await page.waitForSelector('#controls[data-paused="false"]', { timeout: 5000 });
      await page.waitForFunction(() => Number(document.querySelector('.counter[data-counter="slices"]')?.textContent) > 1000, undefined, { timeout: 30_000 });
      await page.waitForFunction(() => [...document.querySelectorAll('svg.graph line title')].some((e) => e.textContent?.startsWith('1 → 2:')), undefined, { timeout: 30_000 });
      // Pause again: the answer carries the count it stopped at, and it stays there.
      const paused = await page.evaluate(async () => (await (await fetch('./control', { method: 'POST', body: '{"action":"pause"}' })).json()) as { paused: boolean; slices: number });
      expect(paused.paused).toBe(true);
      await page.waitForFunction((n) => document.querySelector('.counter[data-counter="slices"]')?.textContent === String(n), paused.slices, { timeout: 5000 });
      const seqAtPause = await lastSeq(page);
      await sleep(800);
      expect(await slices(page)).toBe(paused.slices);
      expect(await lastSeq(page)).toBe(seqAtPause);
      await step('4');
      await page.waitForFunction((n) => document.querySelector('.counter[data-counter="slices"]')?.textContent === String(n), paused.slices + 4, { timeout: 10_000 });
      await sleep(600);
      expect(await slices(page)).toBe(paused.slices + 4);
      await page.click('#resume');
      await page.waitForFunction((n) => Number(document.querySelector('.counter[data-counter="slices"]')?.textContent) > n, paused.slices + 4, { timeout: 10_000 });
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') child.kill('SIGKILL');
      app.remove();
    }
  }, 180_000);

  it("the trace panel is one timeline: late rows of a remote node land by time among the others; the gateway is named; a node's dropped events show", async () => {
    // A scripted run: this process's rows (node 1, the gateway) first, then node 2's rows, which
    // come later in the stream (with its introspect answer) but happened in between.
    const ring = new TraceRing(64);
    const snapshot = (): LiveSnapshot => ({
      timeNs: 9e6,
      clock: 'realtime',
      nodes: [1, 2].map((id) => ({ id, name: `node ${id}`, state: 'allocated' as const, cores: [{ index: 0, state: 'halted' }], ...(id === 2 ? { traceSkipped: 340 } : {}) })),
      edges: [],
    });
    const gatewayPid = 77;
    const ui = await startLiveViewServer({ port: 0, snapshot, intervalMs: 50, title: 'timeline', trace: (after, max) => ring.since(after, max, (pid) => (pid === gatewayPid ? 'gateway' : 1)) });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(ui.url);
      for (const ms of [1, 3, 5, 7]) ring.push('X', ms === 5 ? gatewayPid : 1, 0, `local${ms}`, ms * 1e6, 1000);
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev').length === 4, undefined, { timeout: 10_000 });
      for (const ms of [2, 6, 4]) ring.pushFrom(2, 'i', 0, `remote${ms}`, ms * 1e6, 0);
      await page.waitForFunction(() => document.querySelectorAll('#trace-rows .ev').length === 7, undefined, { timeout: 10_000 });
      const names = await page.locator('#trace-rows .ev').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-name')));
      expect(names).toEqual(['local1', 'remote2', 'local3', 'remote4', 'local5', 'remote6', 'local7']);
      expect(await page.locator('#trace-rows .ev[data-name="local5"]').textContent()).toMatch(/^ +5\.000000 ms {2}gateway core 0 {2}local5/);
      expect(await page.locator('#trace-rows .ev[data-name="remote4"]').textContent()).toMatch(/^ +4\.000000 ms {2}node 2 {2}core 0 {2}remote4$/);
      expect(await page.locator('#trace-rows').textContent()).not.toContain('node ?');
      await page.selectOption('#trace-node', 'gateway');
      expect(await page.locator('#trace-rows .ev').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-name')))).toEqual(['local5']);
      const dropped = page.locator('#trace-count .node-skipped[data-node="2"]');
      expect(await dropped.getAttribute('data-skipped')).toBe('340');
      expect(await dropped.textContent()).toBe('node 2 dropped 340 at the node');
    } finally {
      await browser.close();
      await ui.close();
    }
  }, 60_000);
});
