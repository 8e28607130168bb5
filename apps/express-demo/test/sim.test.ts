/**
 * The unmodified Express app driven by an unmodified Node HTTP client on another simulated node,
 * under the virtual clock with loss, duplication and reordering on every link: every response is
 * byte-exact over 20 seeds, and one seed run twice gives the same trace, byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runApp, type AppRun } from '@ebbrt/runtime';
import { seeds } from '@ebbrt/testkit/seeds';
import { describe, expect, it } from 'vitest';
import { APP_DIR } from './run-demo.js';
import { simGenerated } from './sim/memory-files.js';

interface Result {
  path: string;
  status: number;
  type: string | undefined;
  length: number;
  sha256: string;
  date: string;
}

async function simulate(seed: number, trace = false): Promise<{ run: AppRun; result: { sequential: Result[]; parallel: Result[]; uuid: string; random: number }; lines: string[] }> {
  const lines: string[] = [];
  const run = await runApp(APP_DIR, { configFile: 'test/sim/sim.config.json', seed, trace, output: (l) => lines.push(l), untilNs: 600e9 });
  const line = lines.find((l) => l.includes('SIM-RESULT '));
  if (line === undefined) throw new Error(`seed ${seed}: the client printed no result (replay: EBBRT_SEED=${seed})\n${lines.join('\n')}`);
  return { run, result: JSON.parse(line.slice(line.indexOf('SIM-RESULT ') + 11)), lines };
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function expected(): Record<string, Partial<Result>> {
  const gen = simGenerated();
  const file = (name: string) => readFileSync(join(APP_DIR, 'server/public', name));
  const json = (v: unknown) => ({ status: 200, sha256: sha(JSON.stringify(v)) });
  const echoed = { n: [1, 2, 3], s: 'x'.repeat(3000) };
  return {
    '/static/generated/empty.bin': { status: 200, length: 0, sha256: sha(gen['empty.bin']!) },
    '/static/generated/1k.bin': { status: 200, length: 1024, sha256: sha(gen['1k.bin']!) },
    '/static/generated/256k.bin': { status: 200, length: 256 * 1024, sha256: sha(gen['256k.bin']!) },
    '/static/index.html': { status: 200, sha256: sha(file('index.html')) },
    '/api/hello': json({ hello: 'world', hits: 1, pid: 1 }),
    '/api/sum?n=1000': json({ n: 1000, sum: 500500 }),
    '/api/later?ms=20': json({ waited: 20 }),
    '/api/files': json({ files: [{ name: '1k.bin', size: 1024 }, { name: 'empty.txt', size: 0 }, { name: 'generated', size: 4096 }, { name: 'index.html', size: file('index.html').length }] }),
    '/api/echo': json({ got: echoed, length: JSON.stringify(echoed).length }),
  };
}

describe('a Node client on another simulated node, under loss, duplication and reordering', () => {
  it('every response is byte-exact over 20 seeds', async () => {
    const want = expected();
    for (const seed of seeds(20)) {
      const { run, result, lines } = await simulate(seed);
      const where = `seed ${seed} (replay: EBBRT_SEED=${seed})`;
      expect(run.failures, `${where}\n${lines.join('\n')}`).toEqual([]);
      expect(result.sequential.map((r) => r.path)).toEqual([...Object.keys(want).filter((p) => p !== '/api/echo').slice(0, 8), '/static/../ebbrt.config.ts', '/nope', '/api/echo']);
      for (const r of [...result.sequential, ...result.parallel]) {
        const w = want[r.path];
        if (w === undefined) {
          // Out of the static root, or no route: refused, never a file.
          expect([403, 404], `${where} ${r.path}`).toContain(r.status);
          expect(r.sha256).not.toBe(sha(readFileSync(join(APP_DIR, 'ebbrt.config.ts'))));
          continue;
        }
        expect(r, `${where} ${r.path}`).toMatchObject(w);
      }
      // The faults were really on: frames were lost, duplicated and reordered on the way.
      const faults = { lost: 0, duplicated: 0, reordered: 0 };
      for (const link of run.network!.simulated.fabric.links) {
        for (const direction of ['aToB', 'bToA'] as const) {
          const c = link.counters(direction);
          faults.lost += c.lost;
          faults.duplicated += c.duplicated;
          faults.reordered += c.reordered;
        }
      }
      expect(faults.lost, where).toBeGreaterThan(0);
      expect(faults.duplicated, where).toBeGreaterThan(0);
      expect(faults.reordered, where).toBeGreaterThan(0);
      // The node's clock starts at the deterministic epoch.
      expect(result.sequential[0]!.date).toMatch(/^Thu, 01 Jan 2026 00:00:/);
    }
  }, 600_000);

  it('the same seed gives the same trace and the same responses, byte for byte', async () => {
    const a = await simulate(5, true);
    const b = await simulate(5, true);
    expect(b.result).toEqual(a.result);
    const ta = a.run.simulation.trace.toJSON();
    const tb = b.run.simulation.trace.toJSON();
    expect(ta.length).toBeGreaterThan(10_000);
    expect(sha(tb)).toBe(sha(ta));
    const c = await simulate(6, true);
    expect(sha(c.run.simulation.trace.toJSON())).not.toBe(sha(ta));
  }, 300_000);
});
