/**
 * The fs shim against real node:fs: one script of operations (callback and promise forms, streams,
 * descriptors, and the usual mistakes) runs on a temp dir through node:fs and on another through
 * the shim (over the FileSystem Ebb); every result and every error code must be the same.
 */
import * as realFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeRuntime, UnsupportedApiError } from '../src/index.js';
import { hostedNode, type HostedNode } from './hosted-node.js';

type Fs = typeof realFs;
type Outcome = { ok: unknown } | { err: string | undefined };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fs-contract-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const cb = <T>(f: (done: (e: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((e, v) => (e ? reject(e) : resolve(v as T))));

/** The script: each step names itself and returns something comparable (paths made relative to the root). */
async function script(fs: Fs, root: string): Promise<[string, Outcome][]> {
  const p = (name: string) => join(root, name);
  const rel = (v: unknown) => (typeof v === 'string' ? v.replace(root, '<root>') : v);
  const out: [string, Outcome][] = [];
  const step = async (name: string, run: () => Promise<unknown>) => {
    try {
      out.push([name, { ok: rel(await run()) }]);
    } catch (e) {
      out.push([name, { err: (e as NodeJS.ErrnoException).code }]);
    }
  };
  const fsp = fs.promises;
  const statShape = (s: realFs.Stats) => ({ size: s.size, file: s.isFile(), dir: s.isDirectory(), link: s.isSymbolicLink() });
  await step('writeFile', () => fsp.writeFile(p('a.txt'), 'hello'));
  await step('readFile utf8', () => fsp.readFile(p('a.txt'), 'utf8'));
  await step('readFile buffer', async () => [...(await fsp.readFile(p('a.txt')))]);
  await step('readFile callback', () => cb<string>((d) => fs.readFile(p('a.txt'), 'utf8', d)));
  await step('appendFile', () => fsp.appendFile(p('a.txt'), Buffer.from(' world')));
  await step('appendFile creates', () => cb((d) => fs.appendFile(p('new.txt'), 'x', d)));
  await step('readFile after append', () => fsp.readFile(p('a.txt'), 'utf8'));
  await step('readFile missing', () => fsp.readFile(p('missing.txt')));
  await step('readFile missing callback', () => cb((d) => fs.readFile(p('missing.txt'), d)));
  await step('mkdir', () => fsp.mkdir(p('d')));
  await step('mkdir exists', () => fsp.mkdir(p('d')));
  await step('mkdir no parent', () => fsp.mkdir(p('x/y')));
  await step('mkdir recursive', () => fsp.mkdir(p('r/s/t'), { recursive: true }));
  await step('mkdir recursive existing', () => fsp.mkdir(p('r/s/t'), { recursive: true }));
  await step('mkdir callback', () => cb((d) => fs.mkdir(p('d2'), d)));
  await step('readFile dir', () => fsp.readFile(p('d')));
  await step('writeFile dir', () => fsp.writeFile(p('d'), 'x'));
  await step('writeFile no parent', () => fsp.writeFile(p('nope/a.txt'), 'x'));
  await step('writeFile flag wx existing', () => fsp.writeFile(p('a.txt'), 'x', { flag: 'wx' }));
  await step('writeFile flag a', () => fsp.writeFile(p('a.txt'), '!', { flag: 'a' }));
  await step('stat file', async () => statShape(await fsp.stat(p('a.txt'))));
  await step('stat dir', async () => statShape(await fsp.stat(p('d'))));
  await step('stat callback', async () => statShape(await cb<realFs.Stats>((d) => fs.stat(p('a.txt'), d))));
  await step('stat missing', () => fsp.stat(p('missing')));
  await step('stat under a file', () => fsp.stat(p('a.txt/x')));
  await step('lstat', async () => statShape(await fsp.lstat(p('a.txt'))));
  await step('readdir', async () => (await fsp.readdir(p('.'))).sort());
  await step('readdir withFileTypes', async () => (await fsp.readdir(p('.'), { withFileTypes: true })).map((e) => [e.name, e.isFile(), e.isDirectory()]).sort());
  await step('readdir callback', async () => (await cb<string[]>((d) => fs.readdir(p('r'), d))).sort());
  await step('readdir file', () => fsp.readdir(p('a.txt')));
  await step('readdir missing', () => fsp.readdir(p('missing')));
  await step('rmdir not empty', () => fsp.rmdir(p('r')));
  await step('rmdir', () => fsp.rmdir(p('r/s/t')));
  await step('rmdir file', () => fsp.rmdir(p('a.txt')));
  await step('unlink dir', () => fsp.unlink(p('d')));
  await step('unlink missing', () => fsp.unlink(p('missing')));
  await step('rename', () => fsp.rename(p('new.txt'), p('d/moved.txt')));
  await step('rename missing', () => fsp.rename(p('missing'), p('d/x')));
  await step('rename callback', () => cb((d) => fs.rename(p('d/moved.txt'), p('moved.txt'), d)));
  await step('readFile renamed', () => fsp.readFile(p('moved.txt'), 'utf8'));
  await step('unlink', () => fsp.unlink(p('moved.txt')));
  await step('unlink callback', () => cb((d) => fs.unlink(p('moved.txt'), d)));
  await step('access', () => fsp.access(p('a.txt')));
  await step('access missing', () => fsp.access(p('missing')));
  await step('exists', () => new Promise((r) => fs.exists(p('a.txt'), r)));
  await step('exists missing', () => new Promise((r) => fs.exists(p('missing'), r)));
  await step('copyFile', async () => {
    await fsp.copyFile(p('a.txt'), p('copy.txt'));
    return fsp.readFile(p('copy.txt'), 'utf8');
  });
  await step('copyFile missing', () => fsp.copyFile(p('missing'), p('copy2.txt')));
  await step('truncate', async () => {
    await fsp.truncate(p('copy.txt'), 3);
    return fsp.readFile(p('copy.txt'), 'utf8');
  });
  // Descriptors: positional and sequential reads and writes.
  await step('fd write/read/fstat/close', async () => {
    const fd = await cb<number>((d) => fs.open(p('fd.bin'), 'w+', d));
    const w1 = await cb<number>((d) => fs.write(fd, Buffer.from('abcdef'), 0, 6, null, d));
    const w2 = await cb<number>((d) => fs.write(fd, 'XY', 2, 'utf8', d));
    const buf = Buffer.alloc(10);
    const r1 = await cb<number>((d) => fs.read(fd, buf, 0, 10, 0, d));
    const st = await cb<realFs.Stats>((d) => fs.fstat(fd, d));
    await cb((d) => fs.close(fd, d));
    return { w1, w2, r1, data: buf.subarray(0, r1).toString(), size: st.size };
  });
  await step('fd sequential reads', async () => {
    const fd = await cb<number>((d) => fs.open(p('a.txt'), 'r', d));
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(40);
    const n1 = await cb<number>((d) => fs.read(fd, a, 0, 4, null, d));
    const n2 = await cb<number>((d) => fs.read(fd, b, 0, 40, null, d));
    const n3 = await cb<number>((d) => fs.read(fd, b, 0, 40, null, d));
    await cb((d) => fs.close(fd, d));
    return [n1, n2, n3, a.toString(), b.subarray(0, n2).toString()];
  });
  await step('open missing', () => cb((d) => fs.open(p('missing'), 'r', d)));
  await step('open wx existing', () => cb((d) => fs.open(p('a.txt'), 'wx', d)));
  await step('open dir then read', async () => {
    const fd = await cb<number>((d) => fs.open(p('d'), 'r', d));
    try {
      return await cb((d) => fs.read(fd, Buffer.alloc(4), 0, 4, 0, d));
    } finally {
      await cb((d) => fs.close(fd, d));
    }
  });
  await step('close bad fd', () => cb((d) => fs.close(987654, d)));
  await step('FileHandle', async () => {
    const h = await fsp.open(p('h.txt'), 'w+');
    await h.write('handle data');
    const { bytesRead, buffer } = await h.read(Buffer.alloc(6), 0, 6, 7);
    const size = (await h.stat()).size;
    await h.close();
    return [bytesRead, buffer.toString(), size];
  });
  await step('append fd', async () => {
    const fd = await cb<number>((d) => fs.open(p('a.txt'), 'a', d));
    await cb((d) => fs.write(fd, Buffer.from('+'), 0, 1, null, d));
    await cb((d) => fs.close(fd, d));
    return fsp.readFile(p('a.txt'), 'utf8');
  });
  // Streams.
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 255;
  await step('createWriteStream', async () => {
    const ws = fs.createWriteStream(p('big.bin'));
    for (let off = 0; off < big.length; off += 70_000) ws.write(big.subarray(off, off + 70_000));
    await new Promise<void>((resolve, reject) => ws.end(() => resolve()).on('error', reject));
    return (await fsp.stat(p('big.bin'))).size;
  });
  await step('createReadStream', async () => {
    const chunks: Buffer[] = [];
    for await (const c of fs.createReadStream(p('big.bin'))) chunks.push(c as Buffer);
    return Buffer.concat(chunks).equals(big);
  });
  await step('createReadStream range', async () => {
    const chunks: Buffer[] = [];
    for await (const c of fs.createReadStream(p('big.bin'), { start: 100, end: 199_999, highWaterMark: 7000 })) chunks.push(c as Buffer);
    return Buffer.concat(chunks).equals(big.subarray(100, 200_000));
  });
  await step('createReadStream missing', async () => {
    for await (const _ of fs.createReadStream(p('missing'))) void _;
  });
  await step('createReadStream encoding', async () => {
    let s = '';
    for await (const c of fs.createReadStream(p('a.txt'), { encoding: 'utf8' })) s += c;
    return s;
  });
  await step('rm recursive', () => fsp.rm(p('d'), { recursive: true }));
  await step('rm force missing', () => fsp.rm(p('missing'), { force: true }));
  await step('rm missing', () => fsp.rm(p('missing')));
  await step('readdir end', async () => (await fsp.readdir(p('.'))).sort());
  return out;
}

describe('the fs shim matches node:fs', () => {
  let node: HostedNode | undefined;
  afterEach(() => node?.dispose());

  it('same results and the same error codes for every step of the script', async () => {
    const real = await script(realFs, tempDir());
    const root = tempDir();
    node = hostedNode(root);
    const shim = await node.on(0, () => {
      const runtime = new NodeRuntime(node!.host, { script: join(root, 'x.js'), cwd: root, env: {}, hosts: {}, deterministic: true, epochMs: 0, seed: 1 });
      return script(runtime.builtin('fs') as Fs, root);
    });
    expect(shim.map(([n]) => n)).toEqual(real.map(([n]) => n));
    for (let i = 0; i < real.length; i++) expect(shim[i], real[i]![0]).toEqual(real[i]);
    // The script saw errors (the contract covers them, not only the happy path).
    expect(real.filter(([, o]) => "err" in o).length).toBeGreaterThan(20);
    expect(real.filter(([, o]) => "ok" in o).length).toBeGreaterThanOrEqual(40);
    if (process.env.SHOW_FS_CONTRACT) console.log("SHIM " + JSON.stringify(shim));
    expect(node.failures).toEqual([]);
  }, 60_000);

  it('sync calls throw naming the call; a path out of the root is EACCES, never another file', async () => {
    const root = tempDir();
    node = hostedNode(join(root));
    realFs.mkdirSync(join(root, 'app'));
    const outcome = await node.on(0, async () => {
      const runtime = new NodeRuntime(node!.host, { script: join(root, 'app/x.js'), cwd: join(root, 'app'), env: {}, hosts: {}, deterministic: true, epochMs: 0, seed: 1 });
      const fs = runtime.builtin('fs') as Fs;
      let sync: unknown;
      try {
        fs.readFileSync('a.txt');
      } catch (e) {
        sync = e;
      }
      const out = await fs.promises.readFile('../../../../etc/passwd').then(
        () => 'read!',
        (e: NodeJS.ErrnoException) => e.code,
      );
      return { sync, out };
    });
    expect(outcome.sync).toBeInstanceOf(UnsupportedApiError);
    expect((outcome.sync as Error).message).toMatch(/fs\.readFileSync is not supported.*no synchronous path/);
    expect(outcome.out).toBe('EACCES');
  });
});
