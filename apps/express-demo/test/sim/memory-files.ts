/**
 * A FileSystem Ebb held in the node's memory, for virtual-clock runs: there the front-end is not
 * on the simulated network, so the default FileSystem (offloaded to it) cannot answer. It holds the
 * demo's public directory (read once at boot) plus the generated test files, all with a fixed
 * mtime, so a run is a pure function of its seed. Read-only: writes fail with EROFS. Swapped in by
 * the sim config (`backend.ebbs.FileSystem: './test/sim/memory-files.ts'`), as any Ebb is.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemError, IOBuf, defineEbbManifest, type CoreInfo, type EbbRoot, type FileStat, type FileSystem } from '@ebbrt/interfaces';
import { pattern } from '../run-demo.js';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PUBLIC = join(APP_DIR, 'server', 'public');

/** What the sim serves under public/generated (the realtime tests use 5 MiB; the sim 256 KiB per seed). */
export function simGenerated(): Record<string, Buffer> {
  return { 'empty.bin': Buffer.alloc(0), '1k.bin': pattern(1024, 1), '256k.bin': pattern(256 * 1024, 3) };
}

class MemoryFiles implements FileSystem {
  constructor(private readonly files: Map<string, Uint8Array>, private readonly dirs: Map<string, string[]>) {}

  private entry(op: string, path: string): { file?: Uint8Array; dir?: string[] } {
    const file = this.files.get(path);
    if (file !== undefined) return { file };
    const dir = this.dirs.get(path.replace(/\/$/, '') || '/');
    if (dir !== undefined) return { dir };
    const parent = dirname(path);
    if (this.files.has(parent)) throw new FileSystemError('ENOTDIR', op, path, 'a component of the path is not a directory');
    throw new FileSystemError('ENOENT', op, path, 'no such file or directory');
  }

  private stats(op: string, path: string): FileStat {
    const e = this.entry(op, path);
    return e.file !== undefined
      ? { size: e.file.length, isFile: true, isDirectory: false, isSymbolicLink: false, mtimeMs: 1_700_000_000_000, mode: 0o100644 }
      : { size: 4096, isFile: false, isDirectory: true, isSymbolicLink: false, mtimeMs: 1_700_000_000_000, mode: 0o40755 };
  }

  async readFile(path: string): Promise<IOBuf> {
    const e = this.entry('readFile', path);
    if (e.file === undefined) throw new FileSystemError('EISDIR', 'readFile', path, 'is a directory');
    return IOBuf.copyOf(e.file);
  }
  async read(path: string, offset: number, length: number): Promise<IOBuf> {
    const e = this.entry('read', path);
    if (e.file === undefined) throw new FileSystemError('EISDIR', 'read', path, 'is a directory');
    return IOBuf.copyOf(e.file.subarray(offset, offset + length));
  }
  async stat(path: string): Promise<FileStat> {
    return this.stats('stat', path);
  }
  async lstat(path: string): Promise<FileStat> {
    return this.stats('lstat', path);
  }
  async readdir(path: string): Promise<string[]> {
    const e = this.entry('readdir', path);
    if (e.dir === undefined) throw new FileSystemError('ENOTDIR', 'readdir', path, 'not a directory');
    return [...e.dir];
  }
  private readOnly(op: string, path: string): Promise<never> {
    return Promise.reject(new FileSystemError('EROFS', op, path, 'read-only file system'));
  }
  writeFile(path: string): Promise<void> {
    return this.readOnly('writeFile', path);
  }
  appendFile(path: string): Promise<void> {
    return this.readOnly('appendFile', path);
  }
  write(path: string): Promise<void> {
    return this.readOnly('write', path);
  }
  truncate(path: string): Promise<void> {
    return this.readOnly('truncate', path);
  }
  mkdir(path: string): Promise<void> {
    return this.readOnly('mkdir', path);
  }
  unlink(path: string): Promise<void> {
    return this.readOnly('unlink', path);
  }
  rmdir(path: string): Promise<void> {
    return this.readOnly('rmdir', path);
  }
  rename(path: string): Promise<void> {
    return this.readOnly('rename', path);
  }
}

class MemoryFilesRoot implements EbbRoot<MemoryFiles> {
  private readonly rep: MemoryFiles;
  constructor() {
    const files = new Map<string, Uint8Array>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (name === 'generated') continue;
        if (statSync(p).isDirectory()) walk(p);
        else files.set(p, readFileSync(p));
      }
    };
    walk(PUBLIC);
    for (const [name, data] of Object.entries(simGenerated())) files.set(join(PUBLIC, 'generated', name), data);
    const dirs = new Map<string, string[]>();
    for (const path of files.keys()) {
      for (let child = path, parent = dirname(path); child !== parent; child = parent, parent = dirname(parent)) {
        const list = dirs.get(parent) ?? [];
        const name = child.slice(parent.length + (parent === '/' ? 0 : 1));
        if (!list.includes(name)) list.push(name);
        dirs.set(parent, list);
      }
    }
    for (const list of dirs.values()) list.sort();
    this.rep = new MemoryFiles(files, dirs);
  }
  handleFault(_core: CoreInfo): MemoryFiles {
    return this.rep;
  }
}

export const manifest = defineEbbManifest<undefined, FileSystem>({
  name: 'express-demo/memory-files',
  implements: 'FileSystem',
  targets: ['native', 'hosted'],
  description: "The demo's public files in the node's memory (virtual-clock runs)",
  create: () => new MemoryFilesRoot(),
});
