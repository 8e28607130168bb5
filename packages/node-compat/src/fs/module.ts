import * as realFs from 'node:fs';
import { UnsupportedApiError } from '../host.js';
import { NodeFiles, type PathLike } from './files.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import { Dirent, Stats } from './stats.js';

type Callback = (error: Error | null, ...values: unknown[]) => void;

/** Calls with no equivalent over the FileSystem Ebb: refused, naming the call. */
const UNSUPPORTED = ['chmod', 'chown', 'lchown', 'lchmod', 'fchmod', 'fchown', 'utimes', 'futimes', 'lutimes', 'link', 'symlink', 'readlink', 'opendir', 'cp', 'mkdtemp', 'statfs', 'fsync', 'fdatasync', 'readv', 'writev'] as const;

const SYNC_WHY =
  'a back-end node has no synchronous path to the front-end that holds its files (every call is a message and its reply); use the callback or promise form';

/**
 * `node:fs` for one app: the callback and promise forms over {@link NodeFiles}, streams, Stats and
 * Dirent. Every `*Sync` call (and watch, chmod, symlink...) throws an error naming it.
 */
export function fsModules(files: NodeFiles): { fs: Record<string, unknown>; promises: Record<string, unknown> } {
  class FileHandle {
    constructor(readonly fd: number) {}
    async read(buffer: ArrayBufferView | { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number | null } = Buffer.alloc(16384), offset?: number, length?: number, position?: number | null) {
      if (!ArrayBuffer.isView(buffer)) ({ buffer = Buffer.alloc(16384), offset, length, position } = buffer);
      const buf = buffer as ArrayBufferView;
      const bytesRead = await files.read(this.fd, buf, offset ?? 0, length ?? buf.byteLength - (offset ?? 0), position ?? null);
      return { bytesRead, buffer: buf };
    }
    async write(data: unknown, offsetOrPosition?: number | null, lengthOrEncoding?: number | BufferEncoding, position?: number | null) {
      if (typeof data === 'string') {
        const n = await files.write(this.fd, data, 0, undefined, offsetOrPosition ?? null, (lengthOrEncoding as BufferEncoding) ?? 'utf8');
        return { bytesWritten: n, buffer: data };
      }
      const n = await files.write(this.fd, data, offsetOrPosition ?? 0, lengthOrEncoding as number | undefined, position ?? null);
      return { bytesWritten: n, buffer: data };
    }
    readFile(options?: BufferEncoding | { encoding?: BufferEncoding }) {
      return files.readFile(this.fd, options);
    }
    writeFile(data: unknown, options?: BufferEncoding | { encoding?: BufferEncoding }) {
      return files.writeFile(this.fd, data, options);
    }
    appendFile(data: unknown, options?: BufferEncoding | { encoding?: BufferEncoding }) {
      return files.writeFile(this.fd, data, options);
    }
    stat() {
      return files.fstat(this.fd);
    }
    truncate(length?: number) {
      return files.truncate(this.fd, length);
    }
    close() {
      return files.close(this.fd);
    }
    createReadStream(options: ReadStreamOptions = {}) {
      return new ReadStream(files, undefined, { ...options, fd: this.fd });
    }
    createWriteStream(options: WriteStreamOptions = {}) {
      return new WriteStream(files, undefined, { ...options, fd: this.fd });
    }
    async [Symbol.asyncDispose]() {
      await files.close(this.fd).catch(() => undefined);
    }
  }

  const unsupported = (name: string, why?: string) => () => {
    throw new UnsupportedApiError(name, why);
  };

  const promises: Record<string, unknown> = {
    readFile: (p: PathLike | FileHandle, o?: never) => files.readFile(p instanceof FileHandle ? p.fd : p, o),
    writeFile: (p: PathLike | FileHandle, d: unknown, o?: never) => files.writeFile(p instanceof FileHandle ? p.fd : p, d, o),
    appendFile: (p: PathLike | FileHandle, d: unknown, o?: never) => files.appendFile(p instanceof FileHandle ? p.fd : p, d, o),
    stat: (p: PathLike) => files.stat(p),
    lstat: (p: PathLike) => files.lstat(p),
    readdir: (p: PathLike, o?: never) => files.readdir(p, o),
    mkdir: (p: PathLike, o?: never) => files.mkdir(p, o),
    unlink: (p: PathLike) => files.unlink(p),
    rmdir: (p: PathLike) => files.rmdir(p),
    rm: (p: PathLike, o?: never) => files.rm(p, o),
    rename: (a: PathLike, b: PathLike) => files.rename(a, b),
    copyFile: (a: PathLike, b: PathLike, m?: number) => files.copyFile(a, b, m),
    access: (p: PathLike, m?: number) => files.access(p, m),
    realpath: (p: PathLike) => files.realpath(p),
    truncate: (p: PathLike, n?: number) => files.truncate(p, n),
    open: async (p: PathLike, flags?: string, mode?: number) => new FileHandle(await files.open(p, flags, mode)),
    constants: realFs.constants,
    FileHandle,
  };
  for (const name of UNSUPPORTED) promises[name] = unsupported(`fs.promises.${name}`);
  promises.watch = unsupported('fs.promises.watch', 'the front-end does not forward file change events');

  const withCallback =
    (name: string, run: (...args: never[]) => Promise<unknown>, spread?: (v: unknown) => unknown[]) =>
    (...args: unknown[]): void => {
      const callback = args.pop();
      if (typeof callback !== 'function') {
        throw Object.assign(new TypeError(`The "cb" argument of fs.${name} must be of type function. Received ${typeof callback}`), { code: 'ERR_INVALID_ARG_TYPE' });
      }
      const cb = callback as Callback;
      let p: Promise<unknown>;
      try {
        p = run(...(args as never[]));
      } catch (e) {
        // Argument errors throw synchronously in Node; others arrive through the callback.
        if ((e as { code?: string }).code?.startsWith('ERR_')) throw e;
        p = Promise.reject(e);
      }
      p.then(
        (v) => (spread === undefined ? (v === undefined ? cb(null) : cb(null, v)) : cb(null, ...spread(v))),
        (e: Error) => cb(e),
      );
    };

  const fs: Record<string, unknown> = {
    constants: realFs.constants,
    F_OK: realFs.constants.F_OK,
    R_OK: realFs.constants.R_OK,
    W_OK: realFs.constants.W_OK,
    X_OK: realFs.constants.X_OK,
    Stats,
    Dirent,
    ReadStream,
    WriteStream,
    promises,
    readFile: withCallback('readFile', (p: PathLike | number, o?: never) => files.readFile(p, o)),
    writeFile: withCallback('writeFile', (p: PathLike | number, d: unknown, o?: never) => files.writeFile(p, d, o)),
    appendFile: withCallback('appendFile', (p: PathLike | number, d: unknown, o?: never) => files.appendFile(p, d, o)),
    stat: withCallback('stat', (p: PathLike) => files.stat(p)),
    lstat: withCallback('lstat', (p: PathLike) => files.lstat(p)),
    fstat: withCallback('fstat', (fd: number) => files.fstat(fd)),
    readdir: withCallback('readdir', (p: PathLike, o?: never) => files.readdir(p, o)),
    mkdir: withCallback('mkdir', (p: PathLike, o?: never) => files.mkdir(p, o)),
    unlink: withCallback('unlink', (p: PathLike) => files.unlink(p)),
    rmdir: withCallback('rmdir', (p: PathLike) => files.rmdir(p)),
    rm: withCallback('rm', (p: PathLike, o?: never) => files.rm(p, o)),
    rename: withCallback('rename', (a: PathLike, b: PathLike) => files.rename(a, b)),
    copyFile: withCallback('copyFile', (a: PathLike, b: PathLike, m?: number) => files.copyFile(a, b, m)),
    access: withCallback('access', (p: PathLike, m?: number) => files.access(p, m)),
    realpath: Object.assign(withCallback('realpath', (p: PathLike) => files.realpath(p)), { native: withCallback('realpath.native', (p: PathLike) => files.realpath(p)) }),
    truncate: withCallback('truncate', (p: PathLike, n?: number) => files.truncate(p, n)),
    ftruncate: withCallback('ftruncate', (fd: number, n?: number) => files.truncate(fd, n)),
    open: withCallback('open', (p: PathLike, flags?: string, mode?: number) => files.open(p, flags, mode)),
    close: (fd: number, callback?: Callback) => {
      files.close(fd).then(
        () => callback?.(null),
        (e: Error) => (callback !== undefined ? callback(e) : undefined),
      );
    },
    read: (fd: number, ...args: unknown[]) => {
      const callback = args.pop() as Callback;
      let [buffer, offset, length, position] = args as [ArrayBufferView | Record<string, unknown> | undefined, number?, number?, number?];
      if (buffer === undefined || !ArrayBuffer.isView(buffer)) {
        const o = (buffer ?? {}) as { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number };
        buffer = o.buffer ?? Buffer.alloc(16384);
        ({ offset, length, position } = o);
      }
      const buf = buffer as ArrayBufferView;
      files.read(fd, buf, offset ?? 0, length ?? buf.byteLength - (offset ?? 0), position ?? null).then(
        (n) => callback(null, n, buf),
        (e: Error) => callback(e),
      );
    },
    write: (fd: number, data: unknown, ...args: unknown[]) => {
      const callback = args.pop() as Callback;
      let p: Promise<number>;
      if (typeof data === 'string') {
        const [position, encoding] = args as [number | null | undefined, BufferEncoding | undefined];
        p = files.write(fd, data, 0, undefined, position ?? null, encoding ?? 'utf8');
      } else {
        const [offset, length, position] = args as [number?, number?, number?];
        p = files.write(fd, data, offset ?? 0, length, position ?? null);
      }
      p.then(
        (n) => callback(null, n, data),
        (e: Error) => callback(e),
      );
    },
    exists: (p: PathLike, callback: (exists: boolean) => void) => {
      let check: Promise<unknown>;
      try {
        check = files.stat(p);
      } catch {
        check = Promise.reject(new Error('invalid path'));
      }
      check.then(
        () => callback(true),
        () => callback(false),
      );
    },
    createReadStream: (p: PathLike, options?: ReadStreamOptions | BufferEncoding) => new ReadStream(files, p, typeof options === 'string' ? { encoding: options } : options),
    createWriteStream: (p: PathLike, options?: WriteStreamOptions | BufferEncoding) => new WriteStream(files, p, typeof options === 'string' ? { encoding: options } : options),
    watch: unsupported('fs.watch', 'the front-end does not forward file change events'),
    watchFile: unsupported('fs.watchFile', 'the front-end does not forward file change events'),
    unwatchFile: unsupported('fs.unwatchFile'),
  };
  for (const name of UNSUPPORTED) fs[name] = unsupported(`fs.${name}`);
  // Every synchronous call is refused by name (the list is the host's, so none slips through).
  for (const name of Object.keys(realFs)) if (name.endsWith('Sync')) fs[name] = unsupported(`fs.${name}`, SYNC_WHY);
  return { fs, promises };
}
