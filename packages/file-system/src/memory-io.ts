import * as fs from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { FileIo, FileIoHandle, FileIoStats } from './file-io.js';

/**
 * `io: 'memory'`: a copy-on-write view of the root, private to one run. Reads see the root's files
 * on disk as they were when the run first looked at them; every write, creation, removal and
 * rename stays in this object's memory and is gone with it. The disk is never written.
 *
 * Why: a simulation run must be a function of its seed. Seeds that run side by side in one app
 * directory (`ebbrt test`) would otherwise read each other's files, and a seed would see what the
 * previous run left behind, so neither a search nor a replay could be trusted. A real disk would
 * also put the wall clock into `mtimeMs`. Here a changed entry's mtime is a logical clock (a fixed
 * epoch plus one millisecond per change), so it is ordered by change and the same in every replay.
 *
 * It is an overlay in the style of Linux's overlayfs: an upper layer (this run's entries) over the
 * lower one (the disk, read-only), with whiteouts for removed lower entries and opaque directories
 * for ones made over a whiteout. Symbolic links on the disk are followed as the disk has them, so
 * LocalFiles' confinement (realpath, O_NOFOLLOW) works on this view exactly as on the disk. Only
 * paths inside the root are overlaid; outside it the view is the disk's, read-only (EROFS).
 */

/** The epoch of the logical mtime clock (2023-11-14), as the express demo's memory files use. */
const EPOCH_MS = 1_700_000_000_000;
const MAX_LINKS = 40;

type Entry =
  | { kind: 'file'; data: Uint8Array; size: number; mtimeMs: number; mode: number }
  | { kind: 'dir'; opaque: boolean; mtimeMs: number; mode: number }
  | { kind: 'link'; target: string; mtimeMs: number }
  /** A whiteout: the lower entry at this path (and everything under it) was removed. */
  | { kind: 'gone' };

/** What a path names: this run's entry, or the disk's (read lazily). */
type Found = { upper: Exclude<Entry, { kind: 'gone' }> } | { lower: fs.Stats; path: string };

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

export class MemoryIo implements FileIo {
  private readonly upper = new Map<string, Entry>();
  /** The disk's lstat of each path looked at (undefined: absent), so a run sees one snapshot. */
  private readonly lowerCache = new Map<string, fs.Stats | undefined>();
  private clock = 0;
  private readonly rootReal: string;
  private readonly rootLexical: string;

  constructor(root: string) {
    this.rootLexical = resolve(root);
    let real = this.rootLexical;
    try {
      real = fs.realpathSync(real);
    } catch {
      // A root that does not exist yet: every call then fails with ENOENT, as on the disk.
    }
    this.rootReal = real;
  }

  /** `p` absolute, with the root as configured spelled as the root's real path. */
  private norm(p: string): string {
    const abs = resolve(p);
    if (this.rootLexical === this.rootReal) return abs;
    const r = relative(this.rootLexical, abs);
    return r === '' ? this.rootReal : !r.startsWith('..') && !r.startsWith(sep) ? join(this.rootReal, r) : abs;
  }

  /** How many entries this run changed (for tests and stats). */
  get changedEntries(): number {
    return this.upper.size;
  }

  private tick(): number {
    return EPOCH_MS + ++this.clock;
  }

  private overlaid(p: string): boolean {
    const r = relative(this.rootReal, p);
    return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !r.startsWith(sep));
  }

  private lowerLstat(p: string): fs.Stats | undefined {
    if (this.lowerCache.has(p)) return this.lowerCache.get(p);
    const s = fs.lstatSync(p, { throwIfNoEntry: false });
    this.lowerCache.set(p, s);
    return s;
  }

  /** Whether the disk's entries under directory `dir` show through (no whiteout or opaque dir on the way). */
  private lowerVisible(dir: string): boolean {
    for (let at = dir; ; at = dirname(at)) {
      const e = this.upper.get(at);
      if (e !== undefined) return e.kind === 'dir' ? !e.opaque : false;
      if (at === this.rootReal || dirname(at) === at) return true;
    }
  }

  /** The entry named by the real directory `dir` plus `name`, without following a final link. */
  private child(dir: string, name: string): Found | undefined {
    const p = join(dir, name);
    const e = this.upper.get(p);
    if (e !== undefined) return e.kind === 'gone' ? undefined : { upper: e };
    if (!this.lowerVisible(dir)) return undefined;
    const s = this.lowerLstat(p);
    return s === undefined ? undefined : { lower: s, path: p };
  }

  private static kindOf(f: Found): 'file' | 'dir' | 'link' | 'other' {
    if ('upper' in f) return f.upper.kind;
    return f.lower.isSymbolicLink() ? 'link' : f.lower.isDirectory() ? 'dir' : f.lower.isFile() ? 'file' : 'other';
  }

  private linkTarget(f: Found): string {
    return 'upper' in f ? (f.upper as { target: string }).target : fs.readlinkSync(f.path);
  }

  /** Resolves every link in `p` (realpath), in this view. */
  private real(p: string, syscall: string, hops = 0): string {
    const abs = this.norm(p);
    if (!this.overlaid(abs)) return fs.realpathSync(abs);
    const parts = relative(this.rootReal, abs).split(sep).filter((s) => s !== '');
    let at = this.rootReal;
    for (let i = 0; i < parts.length; i++) {
      const f = this.child(at, parts[i]!);
      if (f === undefined) throw errno('ENOENT', syscall, p);
      const kind = MemoryIo.kindOf(f);
      if (kind === 'link') {
        if (hops >= MAX_LINKS) throw errno('ELOOP', syscall, p);
        const target = resolve(at, this.linkTarget(f));
        return this.real(join(target, ...parts.slice(i + 1)), syscall, hops + 1);
      }
      if (kind !== 'dir' && i < parts.length - 1) throw errno('ENOTDIR', syscall, p);
      at = join(at, parts[i]!);
    }
    return at;
  }

  /** The entry `p` names after following links (stat's view). */
  private resolved(p: string, syscall: string): { path: string; found: Found } {
    const path = this.real(p, syscall);
    if (!this.overlaid(path)) return { path, found: { lower: fs.statSync(path), path } };
    if (path === this.rootReal) {
      const s = this.lowerLstat(path);
      if (s === undefined) throw errno('ENOENT', syscall, p);
      return { path, found: { lower: s, path } };
    }
    return { path, found: this.child(dirname(path), basename(path))! };
  }

  /** The entry `p` names itself, its parent's links followed (lstat's view); the entry undefined if absent. */
  private entry(p: string, syscall: string): { path: string; found: Found | undefined } {
    const abs = this.norm(p);
    if (!this.overlaid(abs) || abs === this.rootReal) return this.resolved(abs, syscall);
    const dir = this.real(dirname(abs), syscall);
    const parent = this.resolved(dir, syscall).found;
    if (MemoryIo.kindOf(parent) !== 'dir') throw errno('ENOTDIR', syscall, p);
    const path = join(dir, basename(abs));
    if (!this.overlaid(path)) return { path, found: { lower: fs.lstatSync(path), path } };
    return { path, found: this.child(dir, basename(abs)) };
  }

  /** Whether `p` names an entry itself (a dangling link counts). */
  private exists(p: string): boolean {
    try {
      return this.entry(p, 'lstat').found !== undefined;
    } catch {
      return false;
    }
  }

  private writable(path: string, syscall: string): void {
    if (!this.overlaid(path) || path === this.rootReal) throw errno('EROFS', syscall, path);
  }

  private static stats(f: Found): FileIoStats {
    if ('lower' in f) return f.lower;
    const e = f.upper;
    const size = e.kind === 'file' ? e.size : e.kind === 'link' ? Buffer.byteLength(e.target) : 4096;
    const mode = e.kind === 'link' ? 0o120777 : e.kind === 'dir' ? 0o040000 | e.mode : 0o100000 | e.mode;
    return { size, mtimeMs: e.mtimeMs, mode, isFile: () => e.kind === 'file', isDirectory: () => e.kind === 'dir', isSymbolicLink: () => e.kind === 'link' };
  }

  /** The bytes of a file entry (a copy for a disk file, read now). */
  private static bytes(f: Found): Uint8Array {
    if ('lower' in f) return fs.readFileSync(f.path);
    const e = f.upper as Extract<Entry, { kind: 'file' }>;
    return e.data.subarray(0, e.size);
  }

  /** `path`'s file in this run's layer, copied up from the disk first if need be. */
  private fileUp(path: string, f: Found): Extract<Entry, { kind: 'file' }> {
    if ('upper' in f) return f.upper as Extract<Entry, { kind: 'file' }>;
    const data = fs.readFileSync(f.path);
    const e: Entry = { kind: 'file', data, size: data.length, mtimeMs: f.lower.mtimeMs, mode: f.lower.mode & 0o7777 };
    this.upper.set(path, e);
    return e;
  }

  /** Removes `path` from the view: a whiteout where the disk has an entry, else nothing is left. */
  private drop(path: string): void {
    for (const k of [...this.upper.keys()]) if (k.startsWith(path + sep)) this.upper.delete(k);
    if (this.lowerVisible(dirname(path)) && this.lowerLstat(path) !== undefined) this.upper.set(path, { kind: 'gone' });
    else this.upper.delete(path);
  }

  private touch(dir: string): void {
    const e = this.upper.get(dir);
    if (e?.kind === 'dir') e.mtimeMs = this.tick();
  }

  private names(path: string): string[] {
    const out = new Set<string>();
    if (this.lowerVisible(path) && this.lowerLstat(path)?.isDirectory()) for (const n of fs.readdirSync(path)) out.add(n);
    const prefix = path + sep;
    for (const [k, e] of this.upper) {
      if (!k.startsWith(prefix) || k.indexOf(sep, prefix.length) >= 0) continue;
      const n = k.slice(prefix.length);
      if (e.kind === 'gone') out.delete(n);
      else out.add(n);
    }
    return [...out];
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  stat(p: string): Promise<FileIoStats> {
    return this.run(() => MemoryIo.stats(this.resolved(p, 'stat').found));
  }

  lstat(p: string): Promise<FileIoStats> {
    return this.run(() => {
      const { found } = this.entry(p, 'lstat');
      if (found === undefined) throw errno('ENOENT', 'lstat', p);
      return MemoryIo.stats(found);
    });
  }

  realpath(p: string): Promise<string> {
    return this.run(() => this.real(p, 'realpath'));
  }

  readFile(p: string): Promise<Uint8Array> {
    return this.run(() => {
      const { found } = this.resolved(p, 'open');
      if (MemoryIo.kindOf(found) === 'dir') throw errno('EISDIR', 'read', p);
      const bytes = MemoryIo.bytes(found);
      return 'upper' in found ? bytes.slice() : bytes;
    });
  }

  readdir(p: string): Promise<string[]> {
    return this.run(() => {
      const { path, found } = this.resolved(p, 'scandir');
      if (MemoryIo.kindOf(found) !== 'dir') throw errno('ENOTDIR', 'scandir', p);
      return this.overlaid(path) ? this.names(path) : fs.readdirSync(path);
    });
  }

  open(p: string, flags: number, mode = 0o666): Promise<FileIoHandle> {
    return this.run(() => {
      const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NOFOLLOW } = fs.constants;
      let { path, found } = this.entry(p, 'open');
      if (found !== undefined && MemoryIo.kindOf(found) === 'link') {
        if ((flags & O_NOFOLLOW) !== 0) throw errno('ELOOP', 'open', p);
        try {
          ({ path, found } = this.resolved(p, 'open'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || (flags & O_CREAT) === 0) throw e;
          // A dangling link with O_CREAT creates its target, as the kernel does.
          ({ path, found } = this.entry(resolve(dirname(path), this.linkTarget(found)), 'open'));
        }
      }
      const readOnly = (flags & (O_WRONLY | O_RDWR)) === O_RDONLY;
      if (found === undefined) {
        if ((flags & O_CREAT) === 0) throw errno('ENOENT', 'open', p);
        this.writable(path, 'open');
        this.upper.set(path, { kind: 'file', data: new Uint8Array(0), size: 0, mtimeMs: this.tick(), mode: mode & 0o7777 });
        this.touch(dirname(path));
        found = { upper: this.upper.get(path) as Extract<Entry, { kind: 'file' }> };
      } else if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) throw errno('EEXIST', 'open', p);
      const kind = MemoryIo.kindOf(found);
      if (kind === 'dir' && !readOnly) throw errno('EISDIR', 'open', p);
      if (readOnly) {
        if (kind === 'dir') return readHandle(new Uint8Array(0), () => errno('EISDIR', 'read', p));
        return readHandle(MemoryIo.bytes(found));
      }
      this.writable(path, 'open');
      const file = this.fileUp(path, found);
      if ((flags & O_TRUNC) !== 0) {
        file.size = 0;
        file.mtimeMs = this.tick();
      }
      return writeHandle(file, (flags & O_APPEND) !== 0, () => (file.mtimeMs = this.tick()));
    });
  }

  truncate(p: string, length: number): Promise<void> {
    return this.run(() => {
      const { path, found } = this.resolved(p, 'open');
      if (MemoryIo.kindOf(found) === 'dir') throw errno('EISDIR', 'open', p);
      this.writable(path, 'open');
      const file = this.fileUp(path, found);
      resize(file, length);
      file.size = length;
      file.mtimeMs = this.tick();
    });
  }

  mkdir(p: string, options: { recursive: boolean }): Promise<unknown> {
    return this.run(() => {
      const abs = this.norm(p);
      if (options.recursive) {
        const missing: string[] = [];
        for (let at = abs; ; at = dirname(at)) {
          let found: Found | undefined;
          try {
            found = this.resolved(at, 'mkdir').found;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
            // A dangling link is there but leads nowhere: mkdir -p cannot go through it.
            if (this.exists(at)) throw e;
          }
          if (found !== undefined) {
            if (MemoryIo.kindOf(found) !== 'dir') throw errno(at === abs ? 'EEXIST' : 'ENOTDIR', 'mkdir', p);
            break;
          }
          missing.unshift(at);
          if (dirname(at) === at) break;
        }
        for (const m of missing) this.makeDir(m);
        return missing[0];
      }
      const { path, found } = this.entry(abs, 'mkdir');
      if (found !== undefined) throw errno('EEXIST', 'mkdir', p);
      this.makeDir(path);
      return undefined;
    });
  }

  private makeDir(at: string): void {
    const { path } = this.entry(at, 'mkdir');
    this.writable(path, 'mkdir');
    // Made over a whiteout, it hides what the disk had there.
    this.upper.set(path, { kind: 'dir', opaque: this.upper.get(path)?.kind === 'gone' || !this.lowerVisible(dirname(path)), mtimeMs: this.tick(), mode: 0o755 });
    this.touch(dirname(path));
  }

  unlink(p: string): Promise<void> {
    return this.run(() => {
      const { path, found } = this.entry(p, 'unlink');
      if (found === undefined) throw errno('ENOENT', 'unlink', p);
      if (MemoryIo.kindOf(found) === 'dir') throw errno('EISDIR', 'unlink', p);
      this.writable(path, 'unlink');
      this.drop(path);
      this.touch(dirname(path));
    });
  }

  rmdir(p: string): Promise<void> {
    return this.run(() => {
      const { path, found } = this.entry(p, 'rmdir');
      if (found === undefined) throw errno('ENOENT', 'rmdir', p);
      if (MemoryIo.kindOf(found) !== 'dir') throw errno('ENOTDIR', 'rmdir', p);
      if (this.names(path).length > 0) throw errno('ENOTEMPTY', 'rmdir', p);
      this.writable(path, 'rmdir');
      this.drop(path);
      this.touch(dirname(path));
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      // As the kernel: both parents are looked up before the source's absence counts.
      const a = this.entry(from, 'rename');
      const b = this.entry(to, 'rename');
      if (a.found === undefined) throw errno('ENOENT', 'rename', from);
      if (a.path === b.path) return;
      const kind = MemoryIo.kindOf(a.found);
      // As the kernel: a source into its own subtree is EINVAL, a target that is the source's ancestor ENOTEMPTY.
      if (kind === 'dir' && (b.path + sep).startsWith(a.path + sep)) throw errno('EINVAL', 'rename', from);
      if ((a.path + sep).startsWith(b.path + sep)) throw errno('ENOTEMPTY', 'rename', from);
      if (b.found !== undefined) {
        const bKind = MemoryIo.kindOf(b.found);
        if (bKind === 'dir' && kind !== 'dir') throw errno('EISDIR', 'rename', from);
        if (bKind !== 'dir' && kind === 'dir') throw errno('ENOTDIR', 'rename', from);
        if (bKind === 'dir' && this.names(b.path).length > 0) throw errno('ENOTEMPTY', 'rename', from);
      }
      this.writable(a.path, 'rename');
      this.writable(b.path, 'rename');
      const moved = this.snapshot(a.path, a.found);
      this.drop(a.path);
      if (b.found !== undefined) this.drop(b.path);
      for (const [rel, e] of moved) this.upper.set(rel === '' ? b.path : join(b.path, rel), e);
      this.touch(dirname(a.path));
      this.touch(dirname(b.path));
    });
  }

  /** Every entry at and under `path` as this run's entries (disk ones copied), keyed by relative path. */
  private snapshot(path: string, f: Found): [string, Entry][] {
    const kind = MemoryIo.kindOf(f);
    if (kind === 'file') return [['', 'upper' in f ? f.upper : this.fileUp(path, f)]];
    if (kind === 'link') return [['', { kind: 'link', target: this.linkTarget(f), mtimeMs: 'upper' in f ? f.upper.mtimeMs : f.lower.mtimeMs }]];
    if (kind !== 'dir') throw errno('EXDEV', 'rename', path);
    // A moved directory is whole in this layer: opaque, so nothing at its new place shows through.
    const out: [string, Entry][] = [['', { kind: 'dir', opaque: true, mtimeMs: 'upper' in f ? f.upper.mtimeMs : f.lower.mtimeMs, mode: 'upper' in f ? (f.upper as { mode: number }).mode : f.lower.mode & 0o7777 }]];
    for (const name of this.names(path).sort()) {
      const c = this.child(path, name)!;
      for (const [rel, e] of this.snapshot(join(path, name), c)) out.push([rel === '' ? name : join(name, rel), e]);
    }
    return out;
  }
}

function resize(file: { data: Uint8Array; size: number }, need: number): void {
  if (need <= file.data.length) {
    if (need > file.size) file.data.fill(0, file.size, need);
    return;
  }
  // Doubling, so a file appended to record by record costs amortised O(1) a byte.
  const data = new Uint8Array(Math.max(need, file.data.length * 2, 64));
  data.set(file.data.subarray(0, file.size));
  file.data = data;
}

function readHandle(data: Uint8Array, refuse?: () => Error): FileIoHandle {
  return {
    read(buffer, offset, length, position) {
      if (refuse !== undefined) return Promise.reject(refuse());
      const n = Math.max(0, Math.min(length, data.length - position));
      if (n > 0) buffer.set(data.subarray(position, position + n), offset);
      return Promise.resolve({ bytesRead: n });
    },
    write: () => Promise.reject(errno('EBADF', 'write', '')),
    writeFile: () => Promise.reject(errno('EBADF', 'write', '')),
    close: () => Promise.resolve(),
  };
}

function writeHandle(file: Extract<Entry, { kind: 'file' }>, append: boolean, changed: () => void): FileIoHandle {
  let position = append ? file.size : 0;
  const put = (bytes: Uint8Array, at: number): void => {
    const end = at + bytes.length;
    resize(file, end);
    file.data.set(bytes, at);
    if (end > file.size) file.size = end;
    changed();
  };
  return {
    read: () => Promise.reject(errno('EBADF', 'read', '')),
    write(buffer, offset, length, at) {
      // With O_APPEND, Linux appends whatever position is asked for.
      put(buffer.subarray(offset, offset + length), append ? file.size : at);
      return Promise.resolve({ bytesWritten: length });
    },
    writeFile(data) {
      put(data, append ? file.size : position);
      position += data.length;
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}
