import { constants } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FileSystemError, type FileStat } from '@ebbrt/interfaces';
import { asyncIo, type FileIo, type FileIoStats } from './file-io.js';
import type { Op } from './protocol.js';

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'is a symbolic link that cannot be followed (dangling, or too many links)',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/**
 * The front-end's side: node:fs/promises with every path confined to `root`. A path is
 * resolved against the root (an absolute path must already lie inside it), then its longest
 * existing prefix is resolved with realpath, so neither `..` nor a symbolic link can lead out;
 * the call then works on the resolved path, and writes open with O_NOFOLLOW so a dangling link
 * cannot be written through. (A link swapped in by another process between the check and the
 * use is not defended against: the root is the app's own directory, not a sandbox.)
 */
export class LocalFiles {
  private rootReal: Promise<string> | undefined;

  constructor(
    readonly root: string,
    readonly maxFileBytes: number,
    /** How the node:fs calls are made (asynchronous by default; see file-io.ts). */
    private readonly io: FileIo = asyncIo,
  ) {}

  /** The root's own real path (resolved once). */
  realRoot(): Promise<string> {
    this.rootReal ??= this.io.realpath(resolve(this.root));
    return this.rootReal;
  }

  async readFile(path: string): Promise<Uint8Array> {
    const { real } = await this.confine('readFile', path);
    try {
      const s = await this.io.stat(real);
      if (s.isFile() && s.size > this.maxFileBytes) throw tooLarge('readFile', path, s.size, this.maxFileBytes);
      const data = await this.io.readFile(real);
      if (data.length > this.maxFileBytes) throw tooLarge('readFile', path, data.length, this.maxFileBytes);
      return data;
    } catch (e) {
      throw osError('readFile', path, e);
    }
  }

  async writeFile(path: string, data: Uint8Array, append = false): Promise<void> {
    const op: Op = append ? 'appendFile' : 'writeFile';
    if (data.length > this.maxFileBytes) throw tooLarge(op, path, data.length, this.maxFileBytes);
    const { real } = await this.confine(op, path);
    try {
      if (append) {
        const s = await this.io.stat(real).catch(() => undefined);
        if (s !== undefined && s.size + data.length > this.maxFileBytes) throw tooLarge(op, path, s.size + data.length, this.maxFileBytes);
      }
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (append ? constants.O_APPEND : constants.O_TRUNC);
      const handle = await this.io.open(real, flags, 0o666);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw osError(op, path, e);
    }
  }

  async stat(path: string): Promise<FileStat> {
    const { real, lexical } = await this.confine('stat', path);
    try {
      const [s, l] = await Promise.all([this.io.stat(real), this.io.lstat(lexical)]);
      return fileStat(s, l);
    } catch (e) {
      throw osError('stat', path, e);
    }
  }

  async readdir(path: string): Promise<string[]> {
    const { real } = await this.confine('readdir', path);
    try {
      return (await this.io.readdir(real)).sort();
    } catch (e) {
      throw osError('readdir', path, e);
    }
  }

  async lstat(path: string): Promise<FileStat> {
    const entry = await this.confineEntry('lstat', path);
    try {
      const l = await this.io.lstat(entry);
      return fileStat(l, l);
    } catch (e) {
      throw osError('lstat', path, e);
    }
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const { real } = await this.confine('read', path);
    try {
      const handle = await this.io.open(real, constants.O_RDONLY);
      try {
        const out = new Uint8Array(length);
        let got = 0;
        // A short read is not the end of the file; zero bytes is.
        while (got < length) {
          const { bytesRead } = await handle.read(out, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return out.subarray(0, got);
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw osError('read', path, e);
    }
  }

  async write(path: string, offset: number, data: Uint8Array): Promise<void> {
    if (offset + data.length > this.maxFileBytes) throw tooLarge('write', path, offset + data.length, this.maxFileBytes);
    const { real } = await this.confine('write', path);
    try {
      const handle = await this.io.open(real, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
      try {
        let done = 0;
        while (done < data.length) done += (await handle.write(data, done, data.length - done, offset + done)).bytesWritten;
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw osError('write', path, e);
    }
  }

  async truncate(path: string, length: number): Promise<void> {
    const { real } = await this.confine('truncate', path);
    try {
      await this.io.truncate(real, length);
    } catch (e) {
      throw osError('truncate', path, e);
    }
  }

  async mkdir(path: string, recursive: boolean): Promise<void> {
    const { real } = await this.confine('mkdir', path);
    try {
      await this.io.mkdir(real, { recursive });
    } catch (e) {
      throw osError('mkdir', path, e);
    }
  }

  async unlink(path: string): Promise<void> {
    const entry = await this.confineEntry('unlink', path);
    try {
      await this.io.unlink(entry);
    } catch (e) {
      throw osError('unlink', path, e);
    }
  }

  async rmdir(path: string): Promise<void> {
    const entry = await this.confineEntry('rmdir', path);
    try {
      await this.io.rmdir(entry);
    } catch (e) {
      throw osError('rmdir', path, e);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const [a, b] = await Promise.all([this.confineEntry('rename', from), this.confineEntry('rename', to)]);
    try {
      await this.io.rename(a, b);
    } catch (e) {
      throw osError('rename', from, e);
    }
  }

  /**
   * The directory entry `path` names, its parent confined and its last component kept as it is:
   * what unlink, rename and lstat act on (a link itself, never where it points).
   */
  async confineEntry(op: Op, path: string): Promise<string> {
    const name = typeof path === 'string' ? basename(path) : '';
    if (name === '' || name === '.' || name === '..' || path.endsWith('/')) return (await this.confine(op, path)).real;
    const { real } = await this.confine(op, dirname(path));
    return join(real, name);
  }

  /** The real path `path` names inside the root (and the path before links were resolved), or a FileSystemError. */
  async confine(op: Op, path: string): Promise<{ real: string; lexical: string }> {
    if (typeof path !== 'string' || path.length === 0) {
      throw new FileSystemError('EBBRT_FS_INVALID_PATH', op, String(path), 'the path must be a non-empty string');
    }
    if (path.includes('\0')) throw new FileSystemError('EBBRT_FS_INVALID_PATH', op, path, 'the path contains a NUL byte');
    const root = await this.realRoot();
    const lexicalRoot = resolve(this.root);
    // An absolute path must name something inside the root (as configured or as resolved).
    let abs: string;
    if (isAbsolute(path)) {
      const n = resolve(path);
      if (inside(root, n)) abs = n;
      else if (inside(lexicalRoot, n)) abs = join(root, relative(lexicalRoot, n));
      else throw outside(op, path, 'is an absolute path outside the root');
    } else {
      abs = resolve(root, path);
      if (!inside(root, abs)) throw outside(op, path, 'escapes the root with ".."');
    }
    const real = await realExisting(this.io, abs);
    if (!inside(root, real)) throw outside(op, path, 'leads outside the root through a symbolic link');
    return { real, lexical: abs };
  }
}

function inside(root: string, p: string): boolean {
  if (p === root) return true;
  const r = relative(root, p);
  return r !== '' && !r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r);
}

/** realpath of the longest existing prefix of `abs`, plus the rest (which has no `..`). */
async function realExisting(io: FileIo, abs: string): Promise<string> {
  let rest = '';
  let at = abs;
  for (;;) {
    try {
      const real = await io.realpath(at);
      return rest === '' ? real : join(real, rest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = dirname(at);
      if (parent === at) return abs;
      rest = rest === '' ? relative(parent, at) : join(relative(parent, at), rest);
      at = parent;
    }
  }
}

function outside(op: Op, path: string, why: string): FileSystemError {
  return new FileSystemError('EBBRT_FS_OUTSIDE_ROOT', op, path, `${why}; refused`);
}

function tooLarge(op: Op, path: string, size: number, max: number): FileSystemError {
  return new FileSystemError('EBBRT_FS_TOO_LARGE', op, path, `${size} bytes exceed maxFileBytes (${max})`);
}

/** A node:fs error as a FileSystemError naming the caller's path (not the front-end's real one). */
export function osError(op: Op, path: string, e: unknown): FileSystemError {
  if (e instanceof FileSystemError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return new FileSystemError(code, op, path, DESCRIPTIONS[code] ?? code.toLowerCase());
  return new FileSystemError('EIO', op, path, e instanceof Error ? e.message : String(e));
}

function fileStat(s: FileIoStats, l: FileIoStats): FileStat {
  return { size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory(), isSymbolicLink: l.isSymbolicLink(), mtimeMs: s.mtimeMs, mode: s.mode };
}
