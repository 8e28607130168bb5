/**
 * Front-end offload faults (`faults.offload`) under the virtual clock: the back-ends' FileSystem
 * and GlobalIdMap requests to node 0 are failed (before they are sent) or delayed, drawn from
 * the seed. An app that retries on the named error still ends with exact results; every fault is
 * in the fault log, the trace and `--stats`; a seed replays byte for byte.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ebbrt/interfaces';
import { formatRunStats, runApp } from '../src/index.js';
import { tempApp } from './temp-app.js';

const LINES = 12;

// Each node appends LINES lines to its own file and sets/gets LINES GlobalIdMap keys, retrying
// any call an injected fault refused (and only those: any other error fails the run).
const nodeMain = `import { SystemEbbIds } from '@ebbrt/interfaces';
import { EbbRef } from '@ebbrt/core-translation';
export async function main(ctx) {
  const me = ctx.node.id;
  const fs = new EbbRef(SystemEbbIds.FileSystem).deref();
  const map = new EbbRef(SystemEbbIds.GlobalIdMap).deref();
  const refused = [];
  async function retry(fn) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try { return await fn(); } catch (e) {
        if (e.code !== 'EBBRT_FS_OFFLOAD_FAULT' && e.code !== 'EBBRT_GLOBAL_ID_MAP_OFFLOAD_FAULT') throw e;
        refused.push(e.code + ' | ' + e.message);
      }
    }
    throw new Error('gave up');
  }
  await retry(() => fs.writeFile('out/node-' + me + '.txt', ''));
  for (let i = 0; i < ${LINES}; i++) await retry(() => fs.appendFile('out/node-' + me + '.txt', 'line ' + i + '\\n'));
  const back = new TextDecoder().decode((await retry(() => fs.readFile('out/node-' + me + '.txt'))).toUint8Array());
  const values = [];
  for (let i = 0; i < ${LINES}; i++) {
    const key = 0x7100_0000 + me * 0x100 + i;
    await retry(() => map.set(key, 'v' + me + '.' + i));
    values.push(await retry(() => map.get(key)));
  }
  ctx.log('result ' + JSON.stringify({ me, back, values, refused }));
}
`;

interface Run {
  lines: string[];
  digest: string;
  counts: Record<string, number>;
  instants: Record<string, number>;
  stats: string;
  files: string[];
  exitCode: number;
  results: { me: number; back: string; values: string[]; refused: string[] }[];
}

async function run(seed: number, faults: Record<string, unknown> | undefined): Promise<Run> {
  const app = tempApp(
    {
      entry: { backend: './node.mjs' },
      clock: 'virtual',
      seed,
      backend: { nodes: 2, machine: { cores: 1, memory: '32MiB' } },
      network: { link: { latencyNs: 20_000 } },
      ...(faults !== undefined ? { faults: { offload: faults } } : {}),
    },
    { 'node.mjs': nodeMain },
  );
  mkdirSync(join(app.dir, 'out'));
  const lines: string[] = [];
  try {
    const r = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], trace: true });
    const trace = r.simulation.trace.toJSON();
    const instants: Record<string, number> = {};
    for (const e of JSON.parse(trace).traceEvents as { name: string; ph: string }[]) {
      if (e.ph === 'i' && e.name.startsWith('fault: offload.')) instants[e.name.slice(7)] = (instants[e.name.slice(7)] ?? 0) + 1;
    }
    return {
      lines,
      digest: createHash('sha256').update(trace).update(lines.join('\n')).digest('hex'),
      counts: r.simulation.faults.counts(),
      instants,
      stats: formatRunStats(r),
      files: [1, 2].map((n) => readFileSync(join(app.dir, 'out', `node-${n}.txt`), 'utf8')),
      exitCode: r.exitCode,
      results: lines.filter((l) => l.includes('] result ')).map((l) => JSON.parse(l.slice(l.indexOf('result ') + 7)) as Run['results'][number]),
    };
  } finally {
    app.remove();
  }
}

const expectedFile = Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join('');
const expectedValues = (me: number): string[] => Array.from({ length: LINES }, (_, i) => `v${me}.${i}`);

function checkExact(r: Run, why: string): void {
  expect(r.exitCode, why).toBe(0);
  expect(r.results, why).toHaveLength(2);
  for (const x of r.results) {
    expect(x.back, why).toBe(expectedFile);
    expect(x.values, why).toEqual(expectedValues(x.me));
  }
  // Nothing half-applied: a refused append never reached the disk, a retried one did once.
  expect(r.files, why).toEqual([expectedFile, expectedFile]);
}

describe('front-end offload faults (faults.offload)', () => {
  it('refused requests reach the caller as errors naming the operation and path/key; a retrying app ends exact; counted in the log, the trace and --stats', async () => {
    const faults = { fileSystem: { fail: { probability: 0.3 } }, globalIdMap: { fail: { probability: 0.3 } } };
    const r = await run(7, faults);
    const why = r.lines.join('\n');
    checkExact(r, why);
    const refused = r.results.flatMap((x) => x.refused);
    const fsRefused = refused.filter((m) => m.startsWith('EBBRT_FS_OFFLOAD_FAULT'));
    const idRefused = refused.filter((m) => m.startsWith('EBBRT_GLOBAL_ID_MAP_OFFLOAD_FAULT'));
    expect(fsRefused.length).toBeGreaterThan(0);
    expect(idRefused.length).toBeGreaterThan(0);
    for (const m of fsRefused) expect(m).toMatch(/^EBBRT_FS_OFFLOAD_FAULT \| (writeFile|appendFile|readFile) "out\/node-[12]\.txt": refused by an injected fault \(faults\.offload\.fileSystem\.fail\) on node [12]; it was not sent/);
    for (const m of idRefused) expect(m).toMatch(/^EBBRT_GLOBAL_ID_MAP_OFFLOAD_FAULT \| GlobalIdMap (get|set)\(0x71000[12]0[0-9a-b]\) from node [12]: refused by an injected fault \(faults\.offload\.globalIdMap\.fail\)/);
    // Every refusal the app saw is one counted fault and one trace instant, and --stats says so.
    expect(r.counts['offload.fileSystem.fail']).toBe(fsRefused.length);
    expect(r.counts['offload.globalIdMap.fail']).toBe(idRefused.length);
    expect(r.instants).toEqual({ 'offload.fileSystem.fail': fsRefused.length, 'offload.globalIdMap.fail': idRefused.length });
    expect(r.stats).toContain(`offload.fileSystem.fail ${fsRefused.length}`);
    expect(r.stats).toContain(`offload.globalIdMap.fail ${idRefused.length}`);
    // The same seed replays byte for byte; another seed draws other faults.
    const again = await run(7, faults);
    expect(again.digest).toBe(r.digest);
    const other = await run(8, faults);
    checkExact(other, other.lines.join('\n'));
    expect(other.digest).not.toBe(r.digest);
  }, 120_000);

  it('delays change the trace (and replay), never the results; each fault kind alone differs from a clean run', async () => {
    const clean = await run(5, undefined);
    checkExact(clean, clean.lines.join('\n'));
    expect(Object.keys(clean.counts).filter((k) => k.startsWith('offload.'))).toEqual([]);
    const plans: Record<string, Record<string, unknown>> = {
      'offload.fileSystem.delay': { fileSystem: { delay: { probability: 0.5, maxUs: 3000 } } },
      'offload.globalIdMap.delay': { globalIdMap: { delay: { probability: 0.5, maxUs: 3000 } } },
      'offload.fileSystem.fail': { fileSystem: { fail: { probability: 0.2 } } },
      'offload.globalIdMap.fail': { globalIdMap: { fail: { probability: 0.2 } } },
    };
    for (const [kind, plan] of Object.entries(plans)) {
      const a = await run(5, plan);
      checkExact(a, `${kind}:\n${a.lines.join('\n')}`);
      expect(a.counts[kind], kind).toBeGreaterThan(0);
      expect(Object.keys(a.counts).filter((k) => k.startsWith('offload.')), kind).toEqual([kind]);
      expect(a.digest, kind).not.toBe(clean.digest);
      const b = await run(5, plan);
      expect(b.digest, kind).toBe(a.digest);
    }
  }, 240_000);

  it('a bad plan is refused naming the field; a plan for another implementation is refused, not ignored', async () => {
    await expect(run(1, { fileSystem: { fail: { probability: 2 } } })).rejects.toThrow(/config\.faults\.offload\.fileSystem\.fail\.probability/);
    await expect(run(1, { globalIdMap: { delay: { probability: 0.5, maxUs: 0 } } })).rejects.toThrow(/config\.faults\.offload\.globalIdMap\.delay\.maxUs/);
    await expect(run(1, { fileSystem: { slow: {} } })).rejects.toThrow(/config\.faults\.offload\.fileSystem/);
    const app = tempApp({
      entry: { backend: './node.mjs' },
      clock: 'virtual',
      backend: { nodes: 1, machine: { cores: 1, memory: '32MiB' } },
      faults: { offload: { fileSystem: { fail: { probability: 0.5 } } } },
    }, { 'node.mjs': 'export function main() {}\n' });
    try {
      const error = await runApp(app.dir, { output: () => undefined, resolveFrom: [process.cwd()] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/config\.faults\.offload\.fileSystem.*FileSystem is not installed/);
    } finally {
      app.remove();
    }
  }, 60_000);
});
