/**
 * `io: 'memory'` against the disk: the same operations through LocalFiles on a real directory
 * (synchronous node:fs) and on a copy-on-write memory view of an identical directory must give
 * the same results, the same error codes and the same final tree, and the memory view must never
 * change its disk. Two views of one directory do not see each other's writes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemError } from '@ebbrt/interfaces';
import { LocalFiles, MemoryIo, syncIo } from '../src/index.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ebbrt-memfs-'));
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.txt'), 'secret');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A root with files, a directory, links inside and out, and a dangling link. */
function makeRoot(name: string): string {
  const root = join(base, name);
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(root, 'a.txt'), 'alpha');
  writeFileSync(join(root, 'sub', 'b.txt'), 'beta');
  writeFileSync(join(root, 'sub', 'deep', 'c.bin'), new Uint8Array([1, 2, 3]));
  symlinkSync('sub', join(root, 'sub-link'));
  symlinkSync(join(base, 'outside'), join(root, 'out-link'));
  symlinkSync('nowhere.txt', join(root, 'dangling'));
  return root;
}

/** Every entry under `dir` on the disk: kind, and the bytes or link target. */
function diskTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const s = lstatSync(p);
    const key = prefix + name;
    if (s.isSymbolicLink()) out[key] = `link ${readlinkSync(p)}`;
    else if (s.isDirectory()) Object.assign(out, { [key]: 'dir' }, diskTree(p, key + '/'));
    else out[key] = `file ${readFileSync(p).toString('hex')}`;
  }
  return out;
}

/** Every entry under `dir` as LocalFiles sees it (links not followed). */
async function viewTree(files: LocalFiles, dir = '.', prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await files.readdir(dir)) {
    const p = dir === '.' ? name : `${dir}/${name}`;
    const key = prefix + name;
    const l = await files.lstat(p);
    if (l.isSymbolicLink) out[key] = 'link';
    else if (l.isDirectory) Object.assign(out, { [key]: 'dir' }, await viewTree(files, p, key + '/'));
    else out[key] = `file ${Buffer.from(await files.readFile(p)).toString('hex')}`;
  }
  return out;
}

const segment = fc.constantFrom('a.txt', 'sub', 'sub-link', 'deep', 'b.txt', 'n', 'm.txt', 'dangling', 'out-link', '..');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const bytes = fc.uint8Array({ maxLength: 12 });
type Op =
  | { op: 'writeFile' | 'appendFile'; path: string; data: Uint8Array }
  | { op: 'readFile' | 'stat' | 'lstat' | 'readdir' | 'unlink' | 'rmdir'; path: string }
  | { op: 'mkdir'; path: string; recursive: boolean }
  | { op: 'rename'; path: string; to: string }
  | { op: 'truncate'; path: string; length: number }
  | { op: 'write'; path: string; offset: number; data: Uint8Array }
  | { op: 'read'; path: string; offset: number; length: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('writeFile' as const, 'appendFile' as const), path, data: bytes }),
  fc.record({ op: fc.constantFrom('readFile' as const, 'stat' as const, 'lstat' as const, 'readdir' as const, 'unlink' as const, 'rmdir' as const), path }),
  fc.record({ op: fc.constant('mkdir' as const), path, recursive: fc.boolean() }),
  fc.record({ op: fc.constant('rename' as const), path, to: path }),
  fc.record({ op: fc.constant('truncate' as const), path, length: fc.nat(20) }),
  fc.record({ op: fc.constant('write' as const), path, offset: fc.nat(20), data: bytes }),
  fc.record({ op: fc.constant('read' as const), path, offset: fc.nat(8), length: fc.nat(16) }),
);

/** One op's outcome, comparable across the two: a value (mtime left out) or the error code. */
async function apply(files: LocalFiles, o: Op): Promise<unknown> {
  try {
    switch (o.op) {
      case 'writeFile':
        return await files.writeFile(o.path, o.data);
      case 'appendFile':
        return await files.writeFile(o.path, o.data, true);
      case 'readFile':
        return Buffer.from(await files.readFile(o.path)).toString('hex');
      case 'stat':
      case 'lstat': {
        const { mtimeMs: _m, size, mode, ...rest } = await files[o.op](o.path);
        // A directory's size and permission bits are the file system's business, not ours.
        return rest.isDirectory ? rest : { ...rest, size, type: mode & 0o170000 };
      }
      case 'readdir':
        return await files.readdir(o.path);
      case 'unlink':
        return await files.unlink(o.path);
      case 'rmdir':
        return await files.rmdir(o.path);
      case 'mkdir':
        return await files.mkdir(o.path, o.recursive);
      case 'rename':
        return await files.rename(o.path, o.to);
      case 'truncate':
        return await files.truncate(o.path, o.length);
      case 'write':
        return await files.write(o.path, o.offset, o.data);
      case 'read':
        return Buffer.from(await files.read(o.path, o.offset, o.length)).toString('hex');
    }
  } catch (e) {
    expect(e).toBeInstanceOf(FileSystemError);
    return { error: (e as FileSystemError).code };
  }
}

describe("io: 'memory' (a copy-on-write view of the root)", () => {
  it('property: any sequence of operations gives what the disk gives, and leaves the disk untouched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        rmSync(join(base, 'disk'), { recursive: true, force: true });
        rmSync(join(base, 'lower'), { recursive: true, force: true });
        const disk = new LocalFiles(makeRoot('disk'), 1024, syncIo);
        const lowerRoot = makeRoot('lower');
        const before = diskTree(lowerRoot);
        const memory = new LocalFiles(lowerRoot, 1024, new MemoryIo(lowerRoot));
        for (const [i, o] of ops.entries()) {
          const want = await apply(disk, o);
          const got = await apply(memory, o);
          expect(got, `op ${i} ${JSON.stringify(o)}`).toEqual(want);
        }
        expect(await viewTree(memory)).toEqual(await viewTree(disk));
        expect(diskTree(lowerRoot)).toEqual(before);
        expect(diskTree(join(base, 'outside'))).toEqual({ 'secret.txt': `file ${Buffer.from('secret').toString('hex')}` });
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('two views of one root are private to each other; mtimes are a logical clock, the same in every replay', async () => {
    const root = makeRoot('shared');
    const run = async (): Promise<[LocalFiles, number[]]> => {
      const files = new LocalFiles(root, 1024, new MemoryIo(root));
      await files.writeFile('journal.log', new TextEncoder().encode('one\n'));
      await files.writeFile('journal.log', new TextEncoder().encode('two\n'), true);
      await files.mkdir('out/x', true);
      await files.writeFile('out/x/y', new Uint8Array([7]));
      return [files, await Promise.all(['journal.log', 'out', 'out/x/y'].map(async (p) => (await files.stat(p)).mtimeMs))];
    };
    const [a, mtimesA] = await run();
    const [b, mtimesB] = await run();
    expect(mtimesB).toEqual(mtimesA);
    expect(mtimesA[0]).toBeLessThan(mtimesA[2]!);
    await a.unlink('a.txt');
    expect(Buffer.from(await b.readFile('a.txt')).toString()).toBe('alpha');
    expect(Buffer.from(await b.readFile('journal.log')).toString()).toBe('one\ntwo\n');
    expect(await a.readdir('.')).not.toContain('a.txt');
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('alpha');
    expect(readdirSync(root)).not.toContain('journal.log');
    // Confinement holds in the view exactly as on the disk.
    await expect(a.readFile('out-link/secret.txt')).rejects.toMatchObject({ code: 'EBBRT_FS_OUTSIDE_ROOT' });
    await expect(a.writeFile('out-link/planted.txt', new Uint8Array(1))).rejects.toMatchObject({ code: 'EBBRT_FS_OUTSIDE_ROOT' });
    await expect(a.writeFile('dangling', new Uint8Array(1))).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('a root that does not exist fails each call with ENOENT naming the path', async () => {
    const files = new LocalFiles(join(base, 'missing'), 1024, new MemoryIo(join(base, 'missing')));
    await expect(files.readFile('a.txt')).rejects.toMatchObject({ code: 'ENOENT', path: 'a.txt' });
  });
});
