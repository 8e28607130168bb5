import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

/** The part of an open file LocalFiles uses (a node:fs/promises FileHandle has it). */
export interface FileIoHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  writeFile(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** What LocalFiles reads of a stat (a node:fs Stats has it). */
export interface FileIoStats {
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** The node:fs calls LocalFiles makes, promise-shaped whichever way they are carried out. */
export interface FileIo {
  stat(path: string): Promise<FileIoStats>;
  lstat(path: string): Promise<FileIoStats>;
  realpath(path: string): Promise<string>;
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string): Promise<string[]>;
  open(path: string, flags: number, mode?: number): Promise<FileIoHandle>;
  truncate(path: string, length: number): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

/** node:fs/promises: the libuv thread pool does the work while the front-end's loop goes on. */
export const asyncIo: FileIo = {
  stat: (p) => fsp.stat(p),
  lstat: (p) => fsp.lstat(p),
  realpath: (p) => fsp.realpath(p),
  readFile: (p) => fsp.readFile(p),
  readdir: (p) => fsp.readdir(p),
  open: (p, flags, mode) => fsp.open(p, flags, mode),
  truncate: (p, n) => fsp.truncate(p, n),
  mkdir: (p, o) => fsp.mkdir(p, o),
  unlink: (p) => fsp.unlink(p),
  rmdir: (p) => fsp.rmdir(p),
  rename: (a, b) => fsp.rename(a, b),
};

/** Runs `fn` now; its result or throw as a settled promise. */
function now<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * The same calls done synchronously: every operation completes inside the event that asked for
 * it. Under the virtual clock the front-end serves a node's request while the simulation is frozen
 * (see the runtime's front-end bridge), and only work finished inside its events is replayable:
 * an answer that waits for the thread pool would land at a host-dependent moment.
 */
export const syncIo: FileIo = {
  stat: (p) => now(() => fs.statSync(p)),
  lstat: (p) => now(() => fs.lstatSync(p)),
  realpath: (p) => now(() => fs.realpathSync(p)),
  readFile: (p) => now(() => fs.readFileSync(p)),
  readdir: (p) => now(() => fs.readdirSync(p)),
  open: (p, flags, mode) => now(() => syncHandle(fs.openSync(p, flags, mode))),
  truncate: (p, n) => now(() => fs.truncateSync(p, n)),
  mkdir: (p, o) => now(() => fs.mkdirSync(p, o)),
  unlink: (p) => now(() => fs.unlinkSync(p)),
  rmdir: (p) => now(() => fs.rmdirSync(p)),
  rename: (a, b) => now(() => fs.renameSync(a, b)),
};

function syncHandle(fd: number): FileIoHandle {
  return {
    read: (buffer, offset, length, position) => now(() => ({ bytesRead: fs.readSync(fd, buffer, offset, length, position) })),
    write: (buffer, offset, length, position) => now(() => ({ bytesWritten: fs.writeSync(fd, buffer, offset, length, position) })),
    writeFile: (data) => now(() => fs.writeFileSync(fd, data)),
    close: () => now(() => fs.closeSync(fd)),
  };
}
