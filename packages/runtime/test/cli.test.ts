import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/parse-args.js';

describe('ebbrt CLI arguments', () => {
  it('parses run with every flag', () => {
    expect(parseCli(['run', 'apps/x', '--seed', '7', '--clock', 'realtime', '--trace', 'o.json', '--stats'], {})).toEqual({
      command: 'run',
      appDir: 'apps/x',
      seed: 7,
      clock: 'realtime',
      trace: 'o.json',
      config: undefined,
      stats: true,
      uiPaused: false,
    });
  });

  it('takes another config file', () => {
    expect(parseCli(['run', 'apps/x', '--config', 'alt.config.ts'], {})).toMatchObject({ config: 'alt.config.ts' });
  });

  it('defaults the app dir and takes the seed from EBBRT_SEED', () => {
    expect(parseCli(['run'], { EBBRT_SEED: '12' })).toMatchObject({ appDir: '.', seed: 12, clock: undefined });
  });

  it('rejects bad values naming the flag', () => {
    expect(() => parseCli(['run', '--seed', 'x'], {})).toThrow(/--seed must be an integer/);
    expect(() => parseCli(['run', '--seed', '-1'], {})).toThrow(/--seed/);
    expect(() => parseCli(['run', '--clock', 'fast'], {})).toThrow(/--clock must be virtual or realtime/);
    expect(() => parseCli(['launch'], {})).toThrow(/unknown command "launch"/);
    expect(() => parseCli(['run', 'a', 'b'], {})).toThrow(/unexpected argument "b"/);
    expect(() => parseCli(['run', '--colour'], {})).toThrow(/colour/);
  });

  it('help', () => {
    expect(parseCli([], {})).toEqual({ command: 'help' });
    expect(parseCli(['run', '-h'], {})).toEqual({ command: 'help' });
  });
});
