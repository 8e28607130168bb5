/**
 * The console app end to end, as a user types it: `pnpm ebbrt run apps/matrix-repl` with a
 * session on stdin. Node processes are allocated as tiles are touched and given back as matrices
 * are freed or collected.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomAt } from '@ebbrt/matrix';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const SESSION = [
  'nodes()',
  'a = await random(200, 200, 1)',
  'nodes()',
  'b = await random(200, 200, 2)',
  'c = await a.multiply(b)',
  'nodes()',
  '"sum " + (await c.sum()).toFixed(6)',
  'await a.free()',
  'nodes()',
  'b = c = null',
  'await collect()',
];

function runSession(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['--silent', 'ebbrt', 'run', 'apps/matrix-repl'], {
      cwd: ROOT,
      env: { ...process.env, MATRIX_TILE: '100' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(SESSION.join('\n') + '\n');
  });
}

describe('apps/matrix-repl', () => {
  it('a REPL session: node count rises with the tiles touched and falls as matrices are freed and collected', async () => {
    const { code, out } = await runSession();
    expect(code, out).toBe(0);
    expect(out).toContain('matrix REPL: tile 100, placement per-tile');
    // The REPL's own output lines (values), in order.
    const values = out.split('\n').filter((l) => /^(\d+|DistMatrix .*|'sum .*')$/.test(l));
    expect(values, out).toEqual([
      '0',
      'DistMatrix #1 200x200 (tile 100; 4/4 tiles on 4 nodes)',
      '4',
      'DistMatrix #2 200x200 (tile 100; 4/4 tiles on 4 nodes)',
      'DistMatrix #3 200x200 (tile 100; 4/4 tiles on 4 nodes)',
      '12',
      expect.stringMatching(/^'sum [\d.]+'$/),
      '8',
      '0',
    ]);
    // sum(A x B) = sum over k of (column k of A summed) x (row k of B summed).
    let want = 0;
    for (let k = 0; k < 200; k++) {
      let colA = 0;
      let rowB = 0;
      for (let i = 0; i < 200; i++) {
        colA += randomAt(1, i, k);
        rowB += randomAt(2, k, i);
      }
      want += colA * rowB;
    }
    const got = Number(/'sum ([\d.]+)'/.exec(out)![1]);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-9);
    expect(out).toContain('matrix REPL: closed; nodes 0');
  }, 200_000);
});
