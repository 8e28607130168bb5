import { describe, expect, it, vi } from 'vitest';
import { cli } from '../src/cli/main.js';
import { parseCli } from '../src/cli/parse-args.js';
import { uiTitle } from '../src/cli/live-ui.js';
import { NOOP_ENTRY, baseConfig, tempApp } from './temp-app.js';

describe('ebbrt run --ui [port]', () => {
  it('takes an optional port; bare --ui is port 0 (any free one); off by default', () => {
    expect(parseCli(['run', 'app'], {})).toMatchObject({ ui: undefined });
    expect(parseCli(['run', 'app', '--ui'], {})).toMatchObject({ ui: 0, appDir: 'app' });
    expect(parseCli(['run', '--ui', 'app'], {})).toMatchObject({ ui: 0, appDir: 'app' });
    expect(parseCli(['run', 'app', '--ui', '8080', '--stats'], {})).toMatchObject({ ui: 8080, stats: true });
    expect(parseCli(['run', 'app', '--ui=9000'], {})).toMatchObject({ ui: 9000 });
  });

  it("the page's title names the app, never by an absolute path", () => {
    expect(uiTitle('dashboard-demo', '/tmp/dash-virtual-x1Y2', '/work/repo')).toBe('ebbrt run dashboard-demo');
    expect(uiTitle('app', 'apps/memcached', '/work/repo')).toBe('ebbrt run apps/memcached');
    expect(uiTitle('app', '/work/repo/apps/memcached/', '/work/repo')).toBe('ebbrt run apps/memcached');
    expect(uiTitle('app', '/tmp/ebbrt-app-123/counter', '/work/repo')).toBe('ebbrt run counter');
    expect(uiTitle('app', '../elsewhere/hello', '/work/repo')).toBe('ebbrt run hello');
    expect(uiTitle('app', '.', '/work/repo/apps/hello')).toBe('ebbrt run hello');
  });

  it('a bad port is an error naming it', () => {
    expect(() => parseCli(['run', 'app', '--ui=70000'], {})).toThrow(/--ui port must be an integer in 0\.\.65535, got "70000"/);
    expect(() => parseCli(['run', 'app', '--ui=x'], {})).toThrow(/--ui port.*"x"/);
  });
});

describe('ebbrt run --ui-paused', () => {
  it('implies --ui (port 0 unless given) and keeps a given port', () => {
    expect(parseCli(['run', 'app'], {})).toMatchObject({ uiPaused: false, ui: undefined });
    expect(parseCli(['run', 'app', '--ui-paused'], {})).toMatchObject({ uiPaused: true, ui: 0 });
    expect(parseCli(['run', 'app', '--ui', '8123', '--ui-paused'], {})).toMatchObject({ uiPaused: true, ui: 8123 });
  });

  it('is refused with the realtime clock, saying why', () => {
    expect(() => parseCli(['run', 'app', '--ui-paused', '--clock', 'realtime'], {})).toThrow(/--ui-paused needs the virtual clock/);
    expect(() => parseCli(['run', 'app', '--ui-paused'], { EBBRT_CLOCK: 'realtime' })).toThrow(/--ui-paused needs the virtual clock/);
  });
});

describe('ebbrt run --ui-paused on an app whose config says realtime', () => {
  it('is refused with exit code 2 and the reason, before any live view starts', async () => {
    // The front-end would run for 20 s unless the refusal stops the run.
    const front = "export async function main(ctx) { await new Promise((r) => { const stop = () => { ctx.log('front-end aborted'); r(); }; if (ctx.signal.aborted) stop(); else ctx.signal.addEventListener('abort', stop); setTimeout(() => { ctx.log('front-end timer ran out'); r(); }, 20000); }); }\n";
    const app = tempApp(baseConfig({ clock: 'realtime', entry: { frontend: './front.mjs', backend: './main.mjs' } }), { 'front.mjs': front, 'main.mjs': NOOP_ENTRY });
    const out: string[] = [];
    const err: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    const se = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    try {
      const code = await cli(['run', app.dir, '--ui-paused']);
      so.mockRestore();
      se.mockRestore();
      expect(code).toBe(2);
      expect(err.join('')).toContain("--ui-paused needs the virtual clock, and this app's config says realtime");
      expect(out.join('')).not.toContain('live view at');
      // Stopped by the refusal's abort, not by the front-end's 20 s timer (each says so).
      const said = out.join('') + err.join('');
      expect(said).toContain('front-end aborted');
      expect(said).not.toContain('front-end timer ran out');
    } finally {
      so.mockRestore();
      se.mockRestore();
      app.remove();
    }
  }, 30_000);
});
