import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTest, testCommand } from '../src/cli/test-command.js';
import { NOOP_ENTRY, baseConfig, tempApp } from './temp-app.js';

/** Collects what `ebbrt test` prints. */
function sink(): NodeJS.WriteStream & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      (w as unknown as { text: string }).text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: string };
  w.text = '';
  return w;
}

describe('ebbrt test rejects bad input, naming what was wrong', () => {
  it.each([
    [['--seeds', '5..1'], /--seeds 5\.\.1: the range is empty/],
    [['--seeds', 'abc'], /--seeds must be a range A\.\.B such as 1\.\.1000, got "abc"/],
    [['--seeds', '1..'], /--seeds must be a range A\.\.B/],
    [['--seeds', '1..99999999999'], /--seeds must be a seed in \[0, 2\^32\), got "99999999999"/],
    [['--workers', '0'], /--workers must be an integer in 1\.\.64, got "0"/],
    [['--workers', '1.5'], /--workers must be an integer in 1\.\.64, got "1\.5"/],
    [['--workers', 'two'], /--workers must be an integer in 1\.\.64, got "two"/],
    [['--budget=-5s'], /--budget must be a positive duration, got "-5s" \(negative\)/],
    [['--budget', '-5s'], /--budget/], // node's parseArgs: "argument is ambiguous", naming the option
    [['--budget', '0s'], /--budget must be a positive duration, got "0s"/],
    [['--budget', 'soon'], /--budget must be a duration such as 90s, 5m or 1500ms, got "soon"/],
    [['--max-failures', '0'], /--max-failures must be a positive integer, got "0"/],
    [['--seed', '-1'], /--seed/],
    [['--seed=x'], /--seed must be a seed in \[0, 2\^32\), got "x"/],
    [['--faults', 'link.loss'], /--faults, --trace and --stats replay one seed: they need --seed N/],
    [['app', 'extra'], /unexpected argument "extra"/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j', (argv, message) => {
    expect(() => parseTest(argv)).toThrow(message);
  });

  const noChecker = tempApp(baseConfig(), { 'main.mjs': NOOP_ENTRY });
  const withChecker = tempApp(baseConfig(), {
    'main.mjs': NOOP_ENTRY,
    'ebbrt.invariants.mjs': "export const invariants = { 'the run ends': () => true };\n",
  });
  const emptyChecker = tempApp(baseConfig(), { 'main.mjs': NOOP_ENTRY, 'ebbrt.invariants.mjs': 'export const invariants = {};\n' });
  afterAll(() => [noChecker, withChecker, emptyChecker].forEach((a) => a.remove()));

  it('a config without a checker is one error before any worker starts, naming the file to write', async () => {
    const out = sink();
    await expect(testCommand([noChecker.dir, '--seeds', '1..4', '--workers', '2'], out)).rejects.toThrow(
      /no invariants in .*app-.*: write ebbrt\.invariants\.ts exporting `invariants` \(or pass --invariants FILE\)/,
    );
    expect(out.text).toBe(''); // no progress, no per-seed failures
    await expect(testCommand([noChecker.dir, '--invariants', 'nope.mjs'], sink())).rejects.toThrow(/--invariants: .*nope\.mjs does not exist/);
    await expect(testCommand([emptyChecker.dir], sink())).rejects.toThrow(/ebbrt\.invariants\.mjs: `invariants` is empty/);
  });

  it('an unknown fault name in --faults is named, with the faults the config has', async () => {
    await expect(testCommand([withChecker.dir, '--seed', '1', '--faults', 'link.bogus'], sink())).rejects.toThrow(
      /--faults: "link\.bogus" is not a fault this config turns on \(it has: none\)/,
    );
    // The same app replays cleanly with no faults, so the error above is the fault name's alone.
    const out = sink();
    expect(await testCommand([withChecker.dir, '--seed', '1', '--faults', 'none'], out)).toBe(0);
    expect(out.text).toMatch(/seed 1, faults none: all invariants hold/);
  });
});
