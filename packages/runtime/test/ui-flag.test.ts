import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/parse-args.js';

describe('ebbrt run --ui [port]', () => {
  it('takes an optional port; bare --ui is port 0 (any free one); off by default', () => {
    expect(parseCli(['run', 'app'], {})).toMatchObject({ ui: undefined });
    expect(parseCli(['run', 'app', '--ui'], {})).toMatchObject({ ui: 0, appDir: 'app' });
    expect(parseCli(['run', '--ui', 'app'], {})).toMatchObject({ ui: 0, appDir: 'app' });
    expect(parseCli(['run', 'app', '--ui', '8080', '--stats'], {})).toMatchObject({ ui: 8080, stats: true });
    expect(parseCli(['run', 'app', '--ui=9000'], {})).toMatchObject({ ui: 9000 });
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
