import { resolve as resolvePath, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IOBuf, type FileStat } from '@ebbrt/interfaces';
import type { NodeEbbs } from '../host.js';
import { fsError, fromFileSystem } from './errors.js';
import { Dirent, Stats } from './stats.js';

export type PathLike = string | Buffer | URL;
type Encoding = BufferEncoding | null | undefined;

interface OpenFile {
  readonly path: string;
  readonly shown: string;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  position: number;
}

/** What an `open` flag string means, as Node parses it. */
const FLAGS: Record<string, { read: boolean; write: boolean; create: boolean; truncate: boolean; exclusive: boolean; append: boolean }> = {
  r: { read: true, write: false, create: false, truncate: false, exclusive: false, append: false },
  rs: { read: true, write: false, create: false, truncate: false, exclusive: false, append: false },
  'r+': { read: true, write: true, create: false, truncate: false, exclusive: false, append: false },
  'rs+': { read: true, write: true, create: false, truncate: false, exclusive: false, append: false },
  w: { read: false, write: true, create: true, truncate: true, exclusive: false, append: false },
  wx: { read: false, write: true, create: true, truncate: true, exclusive: true, append: false },
  'w+': { read: true, write: true, create: true, truncate: true, exclusive: false, append: false },
  'wx+': { read: true, write: true, create: true, truncate: true, exclusive: true, append: false },
  a: { read: false, write: true, create: true, truncate: false, exclusive: false, append: true },
  ax: { read: false, write: true, create: true, truncate: false, exclusive: true, append: true },
  'a+': { read: true, write: true, create: true, truncate: false, exclusive: false, append: true },
  'ax+': { read: true, write: true, create: true, truncate: false, exclusive: true, append: true },
  as: { read: false, write: true, create: true, truncate: false, exclusive: false, append: true },
  'as+': { read: true, write: true, create: true, truncate: false, exclusive: false, append: true },
};

/**
 * The asynchronous core of the app's `node:fs`, over the FileSystem Ebb (the front-end's files,
 * confined to the app's root). Relative paths are resolved against the app's working directory;
 * every promise settles on the app's core. File descriptors are this app's own table of (path,
 * position): a read or write at a descriptor is a positional request to the front-end.
 */
export class NodeFiles {
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 20;

  constructor(
    private readonly ebbs: NodeEbbs,
    private readonly cwd: string,
    readonly DateCtor: DateConstructor,
  ) {}

  /** The absolute path the FileSystem is asked for, and the one errors show (as given). */
  path(p: PathLike, arg = 'path'): { abs: string; shown: string } {
    let s: string;
    if (typeof p === 'string') s = p;
    else if (Buffer.isBuffer(p)) s = p.toString('utf8');
    else if (p instanceof URL) {
      if (p.protocol !== 'file:') throw Object.assign(new TypeError('The URL must be of scheme file'), { code: 'ERR_INVALID_URL_SCHEME' });
      s = fileURLToPath(p);
    } else {
      throw Object.assign(new TypeError(`The "${arg}" argument must be of type string or an instance of Buffer or URL. Received ${p === null ? 'null' : typeof p}`), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    if (s.includes('\0')) {
      throw Object.assign(new TypeError(`The argument '${arg}' must be a string, Uint8Array, or URL without null bytes. Received ${JSON.stringify(s)}`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    return { abs: resolvePath(this.cwd, s), shown: s };
  }

  private on<T>(p: Promise<T>): Promise<T> {
    return this.ebbs.settleOnApp(p);
  }

  private fsCall<T>(syscall: string, shown: string, run: () => Promise<T>, dest?: string): Promise<T> {
    let p: Promise<T>;
    try {
      p = run();
    } catch (e) {
      p = Promise.reject(e);
    }
    return this.on(p.catch((e: unknown) => Promise.reject(fromFileSystem(e, syscall, shown, dest))));
  }

  private get fs() {
    return this.ebbs.files.deref();
  }

  async readFile(p: PathLike | number, options?: Encoding | { encoding?: Encoding; flag?: string }): Promise<Buffer | string> {
    const encoding = typeof options === 'string' || options === null ? options : options?.encoding;
    let buf: Buffer;
    if (typeof p === 'number') {
      const f = this.fd(p, 'read');
      const st = await this.fsCall('fstat', f.shown, () => this.fs.stat(f.path));
      buf = await this.readAt(f, f.position, Math.max(0, st.size - f.position));
      f.position += buf.length;
    } else {
      const { abs, shown } = this.path(p);
      const flag = typeof options === 'object' && options !== null ? options.flag : undefined;
      if (flag !== undefined && flag !== 'r') {
        const fd = await this.open(p, flag);
        try {
          return await this.readFile(fd, encoding);
        } finally {
          await this.close(fd);
        }
      }
      const data = await this.fsCall('open', shown, () => this.fs.readFile(abs));
      buf = drain(data);
    }
    return encoding ? buf.toString(encoding) : buf;
  }

  async writeFile(p: PathLike | number, data: unknown, options?: Encoding | { encoding?: Encoding; flag?: string; mode?: number }): Promise<void> {
    const encoding = (typeof options === 'string' ? options : options?.encoding) ?? 'utf8';
    const flag = (typeof options === 'object' && options !== null ? options.flag : undefined) ?? 'w';
    const bytes = toBytes(data, encoding, 'data');
    if (typeof p === 'number') {
      await this.write(p, bytes, 0, bytes.length, null);
      return;
    }
    const { abs, shown } = this.path(p);
    const f = FLAGS[flag];
    if (f === undefined) throw badFlag(flag);
    if (f.exclusive) await this.refuseExisting(abs, shown);
    if (f.append) await this.fsCall('open', shown, () => this.fs.appendFile(abs, bytes));
    else await this.fsCall('open', shown, () => this.fs.writeFile(abs, bytes));
  }

  async appendFile(p: PathLike | number, data: unknown, options?: Encoding | { encoding?: Encoding; flag?: string }): Promise<void> {
    const encoding = (typeof options === 'string' ? options : options?.encoding) ?? 'utf8';
    const flag = (typeof options === 'object' && options !== null ? options.flag : undefined) ?? 'a';
    return this.writeFile(p, data, { encoding, flag });
  }

  async stat(p: PathLike): Promise<Stats> {
    const { abs, shown } = this.path(p);
    return this.stats(await this.fsCall('stat', shown, () => this.fs.stat(abs)));
  }

  async lstat(p: PathLike): Promise<Stats> {
    const { abs, shown } = this.path(p);
    return this.stats(await this.fsCall('lstat', shown, () => this.fs.lstat(abs)));
  }

  stats(s: FileStat): Stats {
    return new Stats(s, this.DateCtor);
  }

  async readdir(p: PathLike, options?: Encoding | { withFileTypes?: boolean; encoding?: Encoding; recursive?: boolean }): Promise<string[] | Dirent[]> {
    const { abs, shown } = this.path(p);
    const o = typeof options === 'object' && options !== null ? options : {};
    if (o.recursive === true) throw Object.assign(new Error('readdir({ recursive: true }) is not supported on an EbbRT back-end node: list each directory'), { code: 'ERR_EBBRT_UNSUPPORTED' });
    const names = await this.fsCall('scandir', shown, () => this.fs.readdir(abs));
    if (o.withFileTypes !== true) return names;
    const parent = typeof p === 'string' ? p : abs;
    return Promise.all(names.map(async (name) => new Dirent(name, this.stats(await this.fsCall('lstat', join(shown, name), () => this.fs.lstat(join(abs, name)))), parent)));
  }

  async mkdir(p: PathLike, options?: number | { recursive?: boolean; mode?: number }): Promise<string | undefined> {
    const { abs, shown } = this.path(p);
    const recursive = typeof options === 'object' && options?.recursive === true;
    if (!recursive) {
      await this.fsCall('mkdir', shown, () => this.fs.mkdir(abs));
      return undefined;
    }
    // Node returns the first directory it had to create (undefined when all existed).
    let first: string | undefined;
    for (let at = abs; ; at = resolvePath(at, '..')) {
      const exists = await this.fs.stat(at).then(() => true, () => false);
      if (exists) break;
      first = at;
      if (resolvePath(at, '..') === at) break;
    }
    await this.fsCall('mkdir', shown, () => this.fs.mkdir(abs, { recursive: true }));
    return first;
  }

  async unlink(p: PathLike): Promise<void> {
    const { abs, shown } = this.path(p);
    await this.fsCall('unlink', shown, () => this.fs.unlink(abs));
  }

  async rmdir(p: PathLike): Promise<void> {
    const { abs, shown } = this.path(p);
    await this.fsCall('rmdir', shown, () => this.fs.rmdir(abs));
  }

  async rm(p: PathLike, options: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    const { abs, shown } = this.path(p);
    let st: FileStat;
    try {
      st = await this.fsCall('lstat', shown, () => this.fs.lstat(abs));
    } catch (e) {
      if (options.force === true && (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw Object.assign(e as Error, { syscall: 'lstat' });
    }
    if (!st.isDirectory) return this.unlink(p);
    if (options.recursive !== true) throw fsError('ERR_FS_EISDIR', 'rm', shown);
    for (const name of await this.fsCall('scandir', shown, () => this.fs.readdir(abs))) await this.rm(join(abs, name), options);
    await this.rmdir(abs);
  }

  async rename(from: PathLike, to: PathLike): Promise<void> {
    const a = this.path(from, 'oldPath');
    const b = this.path(to, 'newPath');
    await this.fsCall('rename', a.shown, () => this.fs.rename(a.abs, b.abs), b.shown);
  }

  async copyFile(from: PathLike, to: PathLike, mode = 0): Promise<void> {
    const a = this.path(from, 'src');
    const b = this.path(to, 'dest');
    if ((mode & 1) !== 0) await this.refuseExisting(b.abs, b.shown, 'copyfile');
    const data = await this.fsCall('copyfile', a.shown, () => this.fs.readFile(a.abs), b.shown);
    await this.fsCall('copyfile', a.shown, () => this.fs.writeFile(b.abs, data), b.shown);
  }

  async access(p: PathLike, _mode?: number): Promise<void> {
    const { abs, shown } = this.path(p);
    await this.fsCall('access', shown, () => this.fs.stat(abs));
  }

  /** The path made absolute; links are resolved by the front-end on every call, so none are shown here. */
  async realpath(p: PathLike): Promise<string> {
    const { abs, shown } = this.path(p);
    await this.fsCall('realpath', shown, () => this.fs.stat(abs));
    return abs;
  }

  async truncate(p: PathLike | number, length = 0): Promise<void> {
    if (typeof p === 'number') {
      const f = this.fd(p, 'ftruncate', true);
      await this.fsCall('ftruncate', f.shown, () => this.fs.truncate(f.path, length));
      return;
    }
    const { abs, shown } = this.path(p);
    await this.fsCall('open', shown, () => this.fs.truncate(abs, length));
  }

  // ------------------------------------------------------------ descriptors

  async open(p: PathLike, flags: string | number = 'r', _mode?: number): Promise<number> {
    const { abs, shown } = this.path(p);
    const flag = typeof flags === 'number' ? numericFlag(flags) : flags;
    const f = FLAGS[flag];
    if (f === undefined) throw badFlag(String(flags));
    if (f.exclusive) await this.refuseExisting(abs, shown);
    if (!f.create) await this.fsCall('open', shown, () => this.fs.stat(abs));
    else if (f.truncate) await this.fsCall('open', shown, () => this.fs.writeFile(abs, new Uint8Array(0)));
    else await this.fsCall('open', shown, () => this.fs.appendFile(abs, new Uint8Array(0)));
    const fd = this.nextFd++;
    this.fds.set(fd, { path: abs, shown, readable: f.read, writable: f.write, append: f.append, position: 0 });
    return fd;
  }

  fd(fd: number, syscall: string, write = false): OpenFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw fsError('EBADF', syscall);
    if (write ? !f.writable : !f.readable) throw fsError('EBADF', syscall);
    return f;
  }

  async close(fd: number): Promise<void> {
    if (!this.fds.delete(fd)) throw fsError('EBADF', 'close');
  }

  async fstat(fd: number): Promise<Stats> {
    const f = this.fds.get(fd);
    if (f === undefined) throw fsError('EBADF', 'fstat');
    return this.stats(await this.fsCall('fstat', f.shown, () => this.fs.stat(f.path)));
  }

  /** `read(fd, buffer, offset, length, position)`: position null or -1 reads at (and moves) the file position. */
  async read(fd: number, buffer: ArrayBufferView, offset = 0, length = buffer.byteLength - offset, position: number | bigint | null = null): Promise<number> {
    const f = this.fd(fd, 'read');
    if (offset < 0 || length < 0 || offset + length > buffer.byteLength) {
      throw Object.assign(new RangeError(`The value of "length" is out of range. It must be <= ${buffer.byteLength - offset}. Received ${length}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    const at = position === null || Number(position) < 0 ? f.position : Number(position);
    const got = await this.readAt(f, at, length);
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).set(got, offset);
    if (position === null || Number(position) < 0) f.position += got.length;
    return got.length;
  }

  private async readAt(f: OpenFile, at: number, length: number): Promise<Buffer> {
    if (length === 0) {
      // Still an error for a directory, as read(2) is.
      const st = await this.fsCall('read', f.shown, () => this.fs.stat(f.path));
      if (st.isDirectory) throw fsError('EISDIR', 'read');
      return Buffer.alloc(0);
    }
    const data = await this.fsCall('read', f.shown, () => this.fs.read(f.path, at, length));
    return drain(data);
  }

  /** `write(fd, data, offset?, length?, position?)`; position null writes at (and moves) the file position. */
  async write(fd: number, data: unknown, offset = 0, length?: number, position: number | null = null, encoding: BufferEncoding = 'utf8'): Promise<number> {
    const f = this.fd(fd, 'write', true);
    let bytes = toBytes(data, encoding, 'buffer');
    if (typeof data !== 'string') bytes = bytes.subarray(offset, length === undefined ? undefined : offset + length);
    if (f.append) {
      await this.fsCall('write', f.shown, () => this.fs.appendFile(f.path, bytes));
      return bytes.length;
    }
    const at = position === null || position < 0 ? f.position : position;
    await this.fsCall('write', f.shown, () => this.fs.write(f.path, at, bytes));
    if (position === null || position < 0) f.position += bytes.length;
    return bytes.length;
  }

  openCount(): number {
    return this.fds.size;
  }

  private async refuseExisting(abs: string, shown: string, syscall = 'open'): Promise<void> {
    const exists = await this.on(this.fs.lstat(abs).then(() => true, () => false));
    if (exists) throw fsError('EEXIST', syscall, shown);
  }
}

/** The bytes of an IOBuf chain as one Buffer (the chain released). */
export function drain(data: IOBuf): Buffer {
  const out = Buffer.allocUnsafe(data.computeChainDataLength());
  let at = 0;
  data.forEachElement((e) => {
    out.set(e.data(), at);
    at += e.length;
  });
  data.releaseChain();
  return out;
}

export function toBytes(data: unknown, encoding: BufferEncoding, arg: string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, encoding);
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw Object.assign(new TypeError(`The "${arg}" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${data === null ? 'null' : typeof data}`), { code: 'ERR_INVALID_ARG_TYPE' });
}

function badFlag(flag: string): Error {
  return Object.assign(new TypeError(`The value "${flag}" is invalid for option "flags"`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** O_* numbers to the flag string they spell (the common combinations). */
function numericFlag(n: number): string {
  const O_WRONLY = 1, O_RDWR = 2, O_CREAT = 64, O_EXCL = 128, O_TRUNC = 512, O_APPEND = 1024;
  const rw = n & 3;
  const base = n & O_APPEND ? 'a' : n & O_TRUNC || (n & O_CREAT && rw !== 0) ? 'w' : 'r';
  const x = n & O_EXCL ? 'x' : '';
  const plus = rw === O_RDWR ? '+' : '';
  if (base === 'r' && rw === O_WRONLY) return 'r+';
  return base + x + plus;
}

export { Stats, Dirent, IOBuf };
