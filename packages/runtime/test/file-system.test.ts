/**
 * The FileSystem end to end: a front-end serving a root directory and 4 back-ends booted by the
 * runtime in real time over lossy links. Each back-end writes a text file and 1 MiB of binary,
 * reads them back, reads 1 MiB the front-end's disk already had, and gets ENOENT for a missing
 * file; the test then checks the disk byte for byte.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApp } from '../src/index.js';
import { seeds, tempApp } from './temp-app.js';

const MiB = 1 << 20;
/** The front-end's own file, read after the 1 MiB read-back on the same connection (a second large transfer). */
const SHARED = 1 * MiB;
/** Deterministic bytes for node `n` (the same function runs in the app modules). */
const pattern = `export function pattern(n, len) { const b = new Uint8Array(len); let x = (n * 2654435761) >>> 0 || 1; for (let i = 0; i < len; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; } return b; }
export function same(a, b) { if (a.length !== b.length) return false; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; }
`;

const nodeMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
import { pattern, same } from './pattern.mjs';
const DRIVER = staticEbbId('test.file-system.driver');
export function main(ctx) {
  const me = ctx.node.id;
  const fs = new EbbRef(SystemEbbIds.FileSystem);
  const messenger = new EbbRef(SystemEbbIds.Messenger);
  const report = (s) => messenger.deref().send(0, DRIVER, 1, IOBuf.copyOf(s));
  messenger.deref().register(DRIVER, (from, type, message) => {
    message.releaseChain();
    work().then(report, (e) => report('error node ' + me + ': ' + (e && e.stack || e)));
  });
  async function work() {
    const r = { node: me };
    await fs.deref().writeFile('out/node-' + me + '.txt', 'hello from node ' + me + ' ✓\\n');
    await fs.deref().appendFile('out/node-' + me + '.txt', 'second line\\n');
    const bin = pattern(me, ${MiB});
    await fs.deref().writeFile('out/node-' + me + '.bin', IOBuf.wrap(bin.slice()));
    r.text = new TextDecoder().decode((await fs.deref().readFile('out/node-' + me + '.txt')).toUint8Array());
    r.binBack = same((await fs.deref().readFile('out/node-' + me + '.bin')).toUint8Array(), bin);
    r.shared = same((await fs.deref().readFile('in/shared.bin')).toUint8Array(), pattern(1000, ${SHARED}));
    r.stat = (await fs.deref().stat('out/node-' + me + '.bin')).size;
    try {
      await fs.deref().readFile('in/missing-' + me + '.txt');
      r.missing = 'no error';
    } catch (e) {
      r.missing = { name: e.name, code: e.code, path: e.path, op: e.op, message: e.message };
    }
    try {
      await fs.deref().readFile('../escape.txt');
    } catch (e) {
      r.escape = e.code;
    }
    return 'result ' + JSON.stringify(r);
  }
}
`;

const frontendMain = `import { SystemEbbIds, IOBuf } from '@ebbrt/interfaces';
import { EbbRef, staticEbbId } from '@ebbrt/core-translation';
const DRIVER = staticEbbId('test.file-system.driver');
export async function main(ctx) {
  const ids = await ctx.backends();
  const messenger = new EbbRef(SystemEbbIds.Messenger).deref();
  const inbox = [];
  let wake;
  messenger.register(DRIVER, (from, type, message) => { inbox.push(new TextDecoder().decode(message.toUint8Array())); message.releaseChain(); wake?.(); });
  for (const id of ids) await messenger.send(id, DRIVER, 1, IOBuf.copyOf('go'));
  while (inbox.length < ids.length) await new Promise((r) => (wake = r));
  for (const line of inbox) ctx.log(line);
  ctx.log('listing ' + JSON.stringify(await new EbbRef(SystemEbbIds.FileSystem).deref().readdir('out')));
}
`;

async function runCluster(seed: number): Promise<{ lines: string[]; files: Map<string, Buffer>; pattern(n: number, len: number): Uint8Array }> {
  const fsRoot = mkdtempSync(join(tmpdir(), 'ebbrt-fs-app-'));
  mkdirSync(join(fsRoot, 'in'));
  mkdirSync(join(fsRoot, 'out'));
  const app = tempApp(
    {
      entry: { frontend: './frontend.mjs', backend: './node.mjs' },
      clock: 'realtime',
      seed,
      frontend: { ebbs: { FileSystem: { package: '@ebbrt/file-system', options: { root: fsRoot } } } },
      backend: {
        nodes: 4,
        machine: { cores: 2, memory: '64MiB' },
        ebbs: {
          FileSystem: '@ebbrt/file-system',
          NetworkManager: { package: '@ebbrt/network-manager-lwip', options: { tcpRtoMinUs: 20_000, tcpRtoInitialUs: 100_000 } },
        },
      },
      network: { link: { latencyNs: 20_000, loss: 0.01, duplicate: 0.01, reorder: 0.02 } },
    },
    { 'pattern.mjs': pattern, 'frontend.mjs': frontendMain, 'node.mjs': nodeMain },
  );
  // The front-end's disk already has a file for everybody to read.
  const mod = (await import(/* @vite-ignore */ join(app.dir, 'pattern.mjs'))) as { pattern(n: number, len: number): Uint8Array };
  writeFileSync(join(fsRoot, 'in', 'shared.bin'), mod.pattern(1000, SHARED));
  writeFileSync(join(fsRoot, '..', 'escape.txt'), 'must not be read');
  const lines: string[] = [];
  try {
    const run = await runApp(app.dir, { output: (l) => lines.push(l), resolveFrom: [process.cwd()], signal: AbortSignal.timeout(90_000) });
    if (run.failures.length > 0) throw new Error(`seed ${seed}: failures:\n${lines.join('\n')}`);
    const files = new Map<string, Buffer>();
    for (const n of [1, 2, 3, 4]) {
      files.set(`${n}.bin`, readFileSync(join(fsRoot, 'out', `node-${n}.bin`)));
      files.set(`${n}.txt`, readFileSync(join(fsRoot, 'out', `node-${n}.txt`)));
    }
    return { lines, files, pattern: mod.pattern };
  } finally {
    app.remove();
    rmSync(fsRoot, { recursive: true, force: true });
    rmSync(join(fsRoot, '..', 'escape.txt'), { force: true });
  }
}

describe('FileSystem: 4 back-ends offload to the front-end over lossy links', () => {
  it(
    'text and 1 MiB binary files round trip byte-exact; a missing file reaches the back-end as ENOENT with its path',
    async () => {
      const all = seeds(3);
      const results = await Promise.all(all.map((seed) => runCluster(seed).then((r) => ({ seed, ...r }))));
      for (const { seed, lines, files, pattern } of results) {
        const why = `seed ${seed}:\n${lines.join('\n')}`;
        expect(lines.filter((l) => l.includes('error node')), why).toEqual([]);
        const rs = lines.filter((l) => l.includes('] result ')).map((l) => JSON.parse(l.slice(l.indexOf('result ') + 7)) as Record<string, unknown>);
        expect(rs, why).toHaveLength(4);
        for (const r of rs) {
          const n = r.node as number;
          expect(r.text, why).toBe(`hello from node ${n} ✓\nsecond line\n`);
          expect(r.binBack, why).toBe(true);
          expect(r.shared, why).toBe(true);
          expect(r.stat, why).toBe(MiB);
          expect(r.missing, why).toEqual({
            name: 'FileSystemError',
            code: 'ENOENT',
            op: 'readFile',
            path: `in/missing-${n}.txt`,
            message: `readFile "in/missing-${n}.txt": no such file or directory (on node 0) (ENOENT)`,
          });
          expect(r.escape, why).toBe('EBBRT_FS_OUTSIDE_ROOT');
          expect(Buffer.compare(files.get(`${n}.bin`)!, pattern(n, MiB)), why).toBe(0);
          expect(files.get(`${n}.txt`)!.toString('utf8')).toBe(`hello from node ${n} ✓\nsecond line\n`);
        }
        const listing = JSON.parse(lines.find((l) => l.includes('listing '))!.split('listing ')[1]!) as string[];
        expect(listing).toEqual(['node-1.bin', 'node-1.txt', 'node-2.bin', 'node-2.txt', 'node-3.bin', 'node-3.txt', 'node-4.bin', 'node-4.txt']);
      }
    },
    240_000,
  );
});
