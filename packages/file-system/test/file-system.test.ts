import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpu, EbbRef, NodeContext } from '@ebbrt/core-translation';
import { manifest as timerManifest } from '@ebbrt/event-manager/timer';
import {
  FileSystemError,
  IOBuf,
  NodeUnavailableError,
  SystemEbbIds,
  validateManifest,
  type EbbRoot,
  type FileSystem,
  type Messenger,
  type Timer,
} from '@ebbrt/interfaces';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostedCluster, type Cluster } from '@ebbrt/testkit/cluster';
import { hostedNode } from '@ebbrt/testkit/hosted';
import { REQUEST, encodeRequest, manifest, type FileSystemRoot } from '../src/index.js';

const fsRef = new EbbRef<FileSystem>(SystemEbbIds.FileSystem);
const messengerRef = new EbbRef<Messenger>(SystemEbbIds.Messenger);

let base: string;
let root: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ebbrt-fs-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'a.txt'), 'alpha');
  writeFileSync(join(root, 'sub', 'b.txt'), 'beta');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(outside, join(root, 'out-link')); // a directory link leading out
  symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
  symlinkSync(join(outside, 'new.txt'), join(root, 'dangling-out')); // dangling, leads out
  symlinkSync(join(root, 'sub'), join(root, 'sub-link')); // stays inside
});
const disposers: (() => unknown)[] = [];
afterEach(async () => {
  for (const d of disposers.splice(0)) await d();
  rmSync(base, { recursive: true, force: true });
});

/** A hosted front-end (id 0, 2 cores) with an Event Manager, a Timer and the FileSystem: no Messenger. */
/** The home's I/O mode for the front-end blocks, which run once per mode. */
let ioMode: 'async' | 'sync' = 'async';
function frontEnd(options: Record<string, unknown> = {}) {
  const { node, log, on, dispose } = hostedNode();
  const fsRoot = manifest.create({ id: SystemEbbIds.FileSystem, node, target: 'hosted', log }, manifest.options!.parse({ root, io: ioMode, ...options })) as FileSystemRoot;
  node.install(SystemEbbIds.FileSystem, fsRoot);
  disposers.push(dispose);
  const error = (core: number, fn: () => Promise<unknown>) => on(core, () => fn().then(() => undefined, (e: unknown) => e)) as Promise<FileSystemError | undefined>;
  return { node, fsRoot, on, error };
}

const text = (b: IOBuf): string => new TextDecoder().decode(b.toUint8Array());

describe('manifest and options', () => {
  it('is a valid FileSystem manifest for both targets; a native home is refused', () => {
    const m = validateManifest('@ebbrt/file-system', manifest);
    expect(m.implements).toBe('FileSystem');
    expect([...m.targets].sort()).toEqual(['hosted', 'native']);
    expect(manifest.options!.parse({})).toEqual({ home: 0, timeoutMs: 30_000, maxFileBytes: 8 * 1024 * 1024, io: 'async' });
    expect(() => manifest.options!.parse({ rot: '.' })).toThrow();
    const node = new NodeContext({ id: 0, numCores: 1, target: 'native' });
    expect(() => manifest.create({ id: SystemEbbIds.FileSystem, node, target: 'native', log: () => undefined }, {} as never)).toThrow(/home must be a hosted node/);
  });
});

describe.each(['async', 'sync'] as const)('on the front-end (%s I/O): confined to the root', (io) => {
  beforeEach(() => void (ioMode = io));
  afterEach(() => void (ioMode = 'async'));
  it('reads, writes, appends, stats and lists inside the root, resuming on the calling core', async () => {
    const fe = frontEnd();
    expect(text(await fe.on(1, () => fsRef.deref().readFile('a.txt')))).toBe('alpha');
    expect(text(await fe.on(0, () => fsRef.deref().readFile('sub/../sub/b.txt')))).toBe('beta');
    expect(text(await fe.on(0, () => fsRef.deref().readFile(join(root, 'a.txt'))))).toBe('alpha'); // absolute, inside
    expect(text(await fe.on(0, () => fsRef.deref().readFile('sub-link/b.txt')))).toBe('beta'); // a link that stays inside
    await fe.on(1, () => fsRef.deref().writeFile('new.txt', 'one '));
    await fe.on(0, () => fsRef.deref().appendFile('new.txt', new TextEncoder().encode('two ')));
    await fe.on(1, () => fsRef.deref().appendFile('new.txt', IOBuf.copyOf('three')));
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('one two three');
    const s = await fe.on(0, () => fsRef.deref().stat('new.txt'));
    expect(s).toMatchObject({ size: 13, isFile: true, isDirectory: false, isSymbolicLink: false });
    expect(await fe.on(0, () => fsRef.deref().stat('sub-link'))).toMatchObject({ isDirectory: true, isSymbolicLink: true });
    expect(await fe.on(0, () => fsRef.deref().readdir('.'))).toEqual(['a.txt', 'dangling-out', 'new.txt', 'out-link', 'secret-link', 'sub', 'sub-link']);
    expect(await fe.on(1, () => fsRef.deref().readdir('sub'))).toEqual(['b.txt']);
    expect(fe.fsRoot.stats().localCalls).toBe(11);
  });

  it('refuses .., absolute paths outside, symbolic links out of the root and NUL bytes, naming the path', async () => {
    const fe = frontEnd();
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      ['../outside/secret.txt', () => fsRef.deref().readFile('../outside/secret.txt'), 'EBBRT_FS_OUTSIDE_ROOT', /escapes the root with "\.\."/],
      ['sub/../../outside/secret.txt', () => fsRef.deref().readFile('sub/../../outside/secret.txt'), 'EBBRT_FS_OUTSIDE_ROOT', /escapes/],
      ['..', () => fsRef.deref().readdir('..'), 'EBBRT_FS_OUTSIDE_ROOT', /escapes/],
      [join(outside, 'secret.txt'), () => fsRef.deref().readFile(join(outside, 'secret.txt')), 'EBBRT_FS_OUTSIDE_ROOT', /absolute path outside the root/],
      ['/etc/passwd', () => fsRef.deref().stat('/etc/passwd'), 'EBBRT_FS_OUTSIDE_ROOT', /absolute path outside/],
      ['secret-link', () => fsRef.deref().readFile('secret-link'), 'EBBRT_FS_OUTSIDE_ROOT', /symbolic link/],
      ['out-link/secret.txt', () => fsRef.deref().readFile('out-link/secret.txt'), 'EBBRT_FS_OUTSIDE_ROOT', /symbolic link/],
      ['out-link/planted.txt', () => fsRef.deref().writeFile('out-link/planted.txt', 'x'), 'EBBRT_FS_OUTSIDE_ROOT', /symbolic link/],
      ['out-link', () => fsRef.deref().readdir('out-link'), 'EBBRT_FS_OUTSIDE_ROOT', /symbolic link/],
      ['secret-link', () => fsRef.deref().writeFile('secret-link', 'overwritten'), 'EBBRT_FS_OUTSIDE_ROOT', /symbolic link/],
      ['dangling-out', () => fsRef.deref().writeFile('dangling-out', 'x'), 'ELOOP', /cannot be followed/],
      ['dangling-out', () => fsRef.deref().appendFile('dangling-out', 'x'), 'ELOOP', /cannot be followed/],
      ['a\0.txt', () => fsRef.deref().readFile('a\0.txt'), 'EBBRT_FS_INVALID_PATH', /NUL byte/],
      ['', () => fsRef.deref().readFile(''), 'EBBRT_FS_INVALID_PATH', /non-empty string/],
    ];
    for (const [path, call, code, detail] of cases) {
      const e = await fe.error(0, call);
      expect(e, path).toBeInstanceOf(FileSystemError);
      expect(e!.code, path).toBe(code);
      expect(e!.path, path).toBe(path);
      expect(e!.message, path).toMatch(detail);
      expect(e!.message, path).toContain(JSON.stringify(path));
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
  });

  it('property: no path whatever reads outside the root', async () => {
    const fe = frontEnd();
    const segment = fc.constantFrom('..', '.', 'sub', 'out-link', 'secret-link', 'sub-link', 'a.txt', 'outside', 'root', '', 'secret.txt');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean(), async (parts, absolute) => {
        const path = (absolute ? base + '/' : '') + parts.join('/');
        const got = await fe.on(0, () => fsRef.deref().readFile(path).then((b) => text(b), (e: unknown) => e));
        if (typeof got === 'string') expect(['alpha', 'beta']).toContain(got);
        else expect(got).toBeInstanceOf(FileSystemError);
      }),
      { numRuns: 200 },
    );
  });

  it('errors from the OS keep their code and the caller path; large files are refused', async () => {
    const fe = frontEnd({ maxFileBytes: 1000 });
    const missing = await fe.error(1, () => fsRef.deref().readFile('sub/missing.txt'));
    expect(missing).toMatchObject({ code: 'ENOENT', op: 'readFile', path: 'sub/missing.txt' });
    expect(missing!.message).toBe('readFile "sub/missing.txt": no such file or directory (ENOENT)');
    expect(await fe.error(0, () => fsRef.deref().readFile('sub'))).toMatchObject({ code: 'EISDIR' });
    expect(await fe.error(0, () => fsRef.deref().readdir('a.txt'))).toMatchObject({ code: 'ENOTDIR' });
    expect(await fe.error(0, () => fsRef.deref().writeFile('no/such/dir/x', 'x'))).toMatchObject({ code: 'ENOENT', path: 'no/such/dir/x' });
    writeFileSync(join(root, 'big.bin'), new Uint8Array(1001));
    expect(await fe.error(0, () => fsRef.deref().readFile('big.bin'))).toMatchObject({ code: 'EBBRT_FS_TOO_LARGE' });
    expect(await fe.error(0, () => fsRef.deref().writeFile('big2.bin', new Uint8Array(1001)))).toMatchObject({ code: 'EBBRT_FS_TOO_LARGE' });
    await fe.on(0, () => fsRef.deref().writeFile('ok.bin', new Uint8Array(600)));
    expect(await fe.error(0, () => fsRef.deref().appendFile('ok.bin', new Uint8Array(600)))).toMatchObject({ code: 'EBBRT_FS_TOO_LARGE' });
  });
});

describe.each(['async', 'sync'] as const)('on the front-end (%s I/O): positional and directory ops', (io) => {
  beforeEach(() => void (ioMode = io));
  afterEach(() => void (ioMode = 'async'));
  it('read/write at offsets, truncate, lstat, mkdir, unlink, rmdir and rename act as node:fs does, confined', async () => {
    const fe = frontEnd();
    const fs = () => fsRef.deref();
    expect(text(await fe.on(0, () => fs().read('a.txt', 1, 3)))).toBe('lph');
    expect(text(await fe.on(0, () => fs().read('a.txt', 3, 100)))).toBe('ha');
    expect((await fe.on(0, () => fs().read('a.txt', 50, 10))).length).toBe(0);
    await fe.on(1, () => fs().write('a.txt', 2, 'XY'));
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('alXYa');
    await fe.on(1, () => fs().write('w.bin', 4, IOBuf.copyOf('zz')));
    expect([...readFileSync(join(root, 'w.bin'))]).toEqual([0, 0, 0, 0, 122, 122]);
    await fe.on(0, () => fs().truncate('w.bin', 2));
    expect(readFileSync(join(root, 'w.bin')).length).toBe(2);
    expect(await fe.on(0, () => fs().lstat('secret-link'))).toMatchObject({ isSymbolicLink: true, isFile: false });
    await fe.on(0, () => fs().mkdir('d1/d2/d3', { recursive: true }));
    await fe.on(0, () => fs().mkdir('d1/d2/d3', { recursive: true }));
    expect(await fe.error(0, () => fs().mkdir('d1'))).toMatchObject({ code: 'EEXIST', op: 'mkdir', path: 'd1' });
    expect(await fe.error(0, () => fs().mkdir('x/y'))).toMatchObject({ code: 'ENOENT' });
    expect(await fe.error(0, () => fs().rmdir('d1'))).toMatchObject({ code: 'ENOTEMPTY' });
    await fe.on(0, () => fs().rmdir('d1/d2/d3'));
    await fe.on(0, () => fs().rename('w.bin', 'd1/moved.bin'));
    expect(existsSync(join(root, 'w.bin'))).toBe(false);
    expect(readFileSync(join(root, 'd1/moved.bin')).length).toBe(2);
    expect(await fe.error(0, () => fs().rename('nope', 'x'))).toMatchObject({ code: 'ENOENT', op: 'rename', path: 'nope' });
    // unlink removes the link, never the file outside the root it points to.
    await fe.on(0, () => fs().unlink('secret-link'));
    expect(existsSync(join(root, 'secret-link'))).toBe(false);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await fe.error(0, () => fs().unlink('sub'))).toMatchObject({ code: 'EISDIR' });
    expect(await fe.error(0, () => fs().read('sub', 0, 10))).toMatchObject({ code: 'EISDIR' });
    for (const escape of [() => fs().unlink('../outside/secret.txt'), () => fs().rename('a.txt', '../outside/a.txt'), () => fs().mkdir('out-link/d'), () => fs().write('out-link/secret.txt', 0, 'x'), () => fs().truncate('out-link/secret.txt', 0)]) {
      expect(await fe.error(0, escape)).toMatchObject({ code: 'EBBRT_FS_OUTSIDE_ROOT' });
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await fe.error(0, () => fs().read('a.txt', -1, 2))).toMatchObject({ code: 'EBBRT_FS_INVALID_ARGUMENT' });
    expect(await fe.error(0, () => fs().read('a.txt', 0, 1e12))).toMatchObject({ code: 'EBBRT_FS_TOO_LARGE' });
  });
});

describe('hosted cluster: a node offloads to the home over the Messenger', () => {
  let c: Cluster;
  let homeRoot: FileSystemRoot;
  let nodeRoot: FileSystemRoot;
  beforeEach(async () => {
    c = await hostedCluster({ nodes: 2 });
    disposers.push(() => c.dispose());
    const roots: FileSystemRoot[] = [];
    for (const [i, m] of c.roots.entries()) {
      const node = m.node;
      const log = (l: string): void => void c.logs[i]!.push(l);
      node.install(SystemEbbIds.Timer, timerManifest.create({ id: SystemEbbIds.Timer, node, target: 'hosted', log }, {}) as EbbRoot<Timer>);
      const r = manifest.create({ id: SystemEbbIds.FileSystem, node, target: 'hosted', log }, manifest.options!.parse({ root, home: c.id(0), timeoutMs: 2000 })) as FileSystemRoot;
      node.install(SystemEbbIds.FileSystem, r);
      roots.push(r);
    }
    [homeRoot, nodeRoot] = roots as [FileSystemRoot, FileSystemRoot];
  });
  const remote = <T>(core: number, fn: () => Promise<T>) =>
    c.run(1, core, async () => {
      const v = await fn();
      if (cpu.current?.index !== core) throw new Error(`resumed on core ${cpu.current?.index}, not ${core}`);
      return v;
    });

  it('round trips text and 1 MiB of binary byte-exact; errors keep code and path; escapes are refused', async () => {
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    await remote(1, () => fsRef.deref().writeFile('sub/big.bin', big));
    expect(Buffer.compare(readFileSync(join(root, 'sub/big.bin')), big)).toBe(0);
    for (let k = 0; k < 3; k++) {
      const back = await remote(k % 2, () => fsRef.deref().readFile('sub/big.bin'));
      expect(Buffer.compare(back.toUint8Array(), big)).toBe(0);
    }
    await remote(0, () => fsRef.deref().writeFile('t.txt', 'héllo '));
    await remote(1, () => fsRef.deref().appendFile('t.txt', IOBuf.copyOf('wörld')));
    expect(text(await remote(1, () => fsRef.deref().readFile('t.txt')))).toBe('héllo wörld');
    expect(await remote(0, () => fsRef.deref().stat('t.txt'))).toMatchObject({ size: 13, isFile: true });
    expect(await remote(1, () => fsRef.deref().readdir('sub'))).toEqual(['b.txt', 'big.bin']);
    const missing = await remote(1, () => fsRef.deref().readFile('nope.txt').then(() => undefined, (e: unknown) => e));
    expect(missing).toBeInstanceOf(FileSystemError);
    expect(missing).toMatchObject({ code: 'ENOENT', op: 'readFile', path: 'nope.txt' });
    const escape = await remote(0, () => fsRef.deref().readFile('out-link/secret.txt').then(() => undefined, (e: unknown) => e));
    expect(escape).toMatchObject({ code: 'EBBRT_FS_OUTSIDE_ROOT', path: 'out-link/secret.txt' });
    expect(nodeRoot.stats()).toMatchObject({ remoteCalls: 11, localCalls: 0, timeouts: 0, unreachable: 0 });
    expect(homeRoot.stats()).toMatchObject({ served: 11, badRequests: 0 });
    expect(c.failures).toEqual([]);
  });

  it('the positional and directory ops work from a node too, with the home codes', async () => {
    await remote(0, () => fsRef.deref().mkdir('r/s', { recursive: true }));
    await remote(1, () => fsRef.deref().write('r/s/f.bin', 3, new Uint8Array([7, 8, 9])));
    expect([...(await remote(0, () => fsRef.deref().read('r/s/f.bin', 2, 10))).toUint8Array()]).toEqual([0, 7, 8, 9]);
    await remote(0, () => fsRef.deref().truncate('r/s/f.bin', 1));
    await remote(1, () => fsRef.deref().rename('r/s/f.bin', 'r/g.bin'));
    expect(await remote(0, () => fsRef.deref().lstat('r/g.bin'))).toMatchObject({ size: 1, isFile: true });
    await remote(1, () => fsRef.deref().unlink('r/g.bin'));
    await remote(0, () => fsRef.deref().rmdir('r/s'));
    expect(await remote(1, () => fsRef.deref().readdir('r'))).toEqual([]);
    const e = await remote(0, () => fsRef.deref().rmdir('r/s').then(() => undefined, (x: unknown) => x));
    expect(e).toMatchObject({ code: 'ENOENT', op: 'rmdir', path: 'r/s' });
    expect(c.failures).toEqual([]);
  });

  it('garbage requests are counted and answered or dropped; the service keeps working', async () => {
    await c.run(1, 0, async () => {
      const m = messengerRef.deref();
      const home = c.id(0);
      const bad: [number, Uint8Array][] = [
        [REQUEST, new Uint8Array(3)],
        [REQUEST, new Uint8Array(8)],
        [REQUEST, (() => { const b = encodeRequest(900, 0, 'readFile', 'a.txt').toUint8Array(); b[6] = 77; return b; })()],
        [REQUEST, (() => { const b = encodeRequest(901, 0, 'readFile', 'a.txt').toUint8Array(); new DataView(b.buffer).setUint32(8, 1e6); return b; })()],
        [REQUEST, encodeRequest(902, 0, 'readFile', 'x').toUint8Array().map((v, i) => (i === 12 ? 0xff : v))],
        [55, new Uint8Array(20)],
      ];
      for (const [type, bytes] of bad) await m.send(home, SystemEbbIds.FileSystem, type, IOBuf.copyOf(bytes));
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void m.send(home, SystemEbbIds.FileSystem, REQUEST, IOBuf.copyOf(bytes))), { numRuns: 50, seed: 3 });
    });
    await c.until(() => homeRoot.stats().badRequests >= 6, 'bad requests counted');
    expect(text(await remote(1, () => fsRef.deref().readFile('a.txt')))).toBe('alpha');
    expect(c.failures).toEqual([]);
  });

  it('a dead front-end rejects with NodeUnavailableError naming it', async () => {
    await c.run(0, 0, () => c.roots[0]!.stop());
    const e = await remote(1, () => fsRef.deref().readFile('a.txt').then(() => undefined, (x: unknown) => x));
    expect(e).toBeInstanceOf(NodeUnavailableError);
    expect((e as NodeUnavailableError).nodeId).toBe(c.id(0));
    expect((e as Error).message).toMatch(/FileSystem readFile "a.txt" from node 11 cannot reach the front-end/);
    expect(nodeRoot.repOn(1)!.pendingRequests).toBe(0);
  });
});
