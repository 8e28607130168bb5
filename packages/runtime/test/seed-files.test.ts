/**
 * Each `ebbrt test` seed gets its own files: the front-end's FileSystem is a copy-on-write view of
 * the app's directory (`files: 'memory'`). Seeds run side by side on two workers in one directory,
 * each appends to the same file, and each sees the disk's content plus its own line only; the
 * disk is left as it was; a replay gives the same digest. `ebbrt run` (runApp) still writes the
 * disk, as a user running the app expects.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runApp, search, SeedRunner, WorkerPool } from '../src/index.js';
import { tempApp } from './temp-app.js';

// Appends "seed N" to out/log.txt (which the disk has), then logs what the file holds and the
// listing of out/, where it also wrote a file named after its seed.
const nodeMain = `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main(ctx) {
  const fs = new EbbRef(SystemEbbIds.FileSystem).deref();
  await fs.appendFile('out/log.txt', 'seed ' + ctx.config.seed + '\\n');
  await fs.writeFile('out/mine-' + ctx.config.seed + '.txt', 'x');
  const log = new TextDecoder().decode((await fs.readFile('out/log.txt')).toUint8Array());
  ctx.log('log ' + JSON.stringify(log) + ' dir ' + JSON.stringify(await fs.readdir('out')));
}
`;
const invariants = `export const invariants = {
  'the log holds the disk line and this seed only': ({ seed, lines }) => {
    const want = 'log ' + JSON.stringify('from disk\\nseed ' + seed + '\\n') + ' dir ' + JSON.stringify(['log.txt', 'mine-' + seed + '.txt']);
    return lines.some((l) => l.endsWith(want)) || 'got: ' + lines.filter((l) => l.includes(' log ')).join(' | ');
  },
};
`;

const app = tempApp(
  { entry: { backend: './node.mjs' }, clock: 'virtual', backend: { nodes: 1, machine: { cores: 1, memory: '32MiB' } }, network: { link: { latencyNs: 20_000 } } },
  { 'node.mjs': nodeMain, 'ebbrt.invariants.mjs': invariants },
);
mkdirSync(join(app.dir, 'out'));
writeFileSync(join(app.dir, 'out', 'log.txt'), 'from disk\n');
const pool = new WorkerPool(2);
afterAll(async () => {
  await pool.close();
  app.remove();
});

describe('per-seed files under ebbrt test', () => {
  it('seeds in parallel each see the disk plus their own writes, and the disk is untouched; replay is byte-exact', async () => {
    const report = await search(pool, { appDir: app.dir, first: 1, last: 8, budgetMs: undefined, swarm: false, shrink: false });
    expect(report.seedsRun).toBe(8);
    expect(report.failures.map((f) => `${f.result.seed}: ${f.result.violation}`)).toEqual([]);
    expect(readFileSync(join(app.dir, 'out', 'log.txt'), 'utf8')).toBe('from disk\n');
    expect(readdirSync(join(app.dir, 'out'))).toEqual(['log.txt']);
    const runner = new SeedRunner();
    const a = await runner.run({ appDir: app.dir, seed: 3, faults: { kind: 'all' } });
    const b = await runner.run({ appDir: app.dir, seed: 3, faults: { kind: 'all' } });
    expect(a.violation).toBeUndefined();
    expect(b.digest).toBe(a.digest);
  }, 120_000);

  it('runApp without files: memory writes the disk', async () => {
    const lines: string[] = [];
    const r = await runApp(app.dir, { seed: 5, output: (l) => lines.push(l), resolveFrom: [process.cwd()] });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(app.dir, 'out', 'log.txt'), 'utf8')).toBe('from disk\nseed 5\n');
    expect(readdirSync(join(app.dir, 'out')).sort()).toEqual(['log.txt', 'mine-5.txt']);
    writeFileSync(join(app.dir, 'out', 'log.txt'), 'from disk\n');
  }, 60_000);
});
