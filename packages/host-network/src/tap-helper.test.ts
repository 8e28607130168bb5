import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tapHelperBinary } from './tap-helper.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ebbrt-helper-test-'));
  dirs.push(d);
  return d;
};

describe('the TAP helper build', () => {
  it('a missing compiler rejects, naming it and what to install, and leaves nothing behind', async () => {
    const dir = fresh();
    await expect(tapHelperBinary({ cc: '/nonexistent/cc', dir })).rejects.toThrow(/could not build the TAP helper with \/nonexistent\/cc \(apt-get install gcc\)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('builds once into the cache (keyed by the source), and the binary checks its arguments', async (ctx) => {
    if (spawnSync('cc', ['--version']).status !== 0) {
      if (process.env.CI) throw new Error('CI must have a C compiler (.ci/run installs gcc)');
      console.log('skipped: no C compiler (cc)');
      ctx.skip();
      return;
    }
    const dir = fresh();
    const bin = await tapHelperBinary({ dir });
    expect(bin.startsWith(join(dir, 'ebbrt-tap-bridge-'))).toBe(true);
    const built = statSync(bin).mtimeMs;
    expect(await tapHelperBinary({ dir, cc: '/nonexistent/cc' })).toBe(bin); // cached: no compiler needed
    expect(statSync(bin).mtimeMs).toBe(built);
    expect(readdirSync(dir)).toEqual([bin.slice(dir.length + 1)]);
    const usage = spawnSync(bin, [], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: .* <tap-name> <bridge-udp-port> <socket-buffer-bytes>/);
    const bad = spawnSync(bin, ['x', '70000', '0'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad arguments: name x port 70000/);
    // A fifth argument other than `inherit` is a usage error; `inherit` without a /dev/net/tun
    // on fd 3 names what the parent must pass.
    expect(spawnSync(bin, ['x', '9', '0', 'nope'], { encoding: 'utf8' }).status).toBe(2);
    const noFd = spawnSync(bin, ['x', '9', '0', 'inherit'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(noFd.status).toBe(1);
    expect(noFd.stderr).toMatch(/inherit: the parent must pass \/dev\/net\/tun as fd 3/);
  });
});
