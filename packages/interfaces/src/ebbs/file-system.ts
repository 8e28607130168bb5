import type { IOBuf } from '../iobuf/index.js';

/** What `FileSystem.stat` reports about a path. */
export interface FileStat {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly isSymbolicLink: boolean;
  /** Modification time, ms since the epoch. */
  readonly mtimeMs: number;
  /** POSIX mode bits (type and permissions). */
  readonly mode: number;
}

/** Data a `FileSystem` write accepts: bytes, an IOBuf chain (the call takes ownership), or text (UTF-8). */
export type FileData = IOBuf | Uint8Array | string;

/**
 * EbbRT's FileSystem Ebb: file access for nodes that have no file system of their own. The
 * front-end serves it from its OS, confined to a root directory; back-ends offload every call
 * to the front-end. Paths are relative to that root (`/`-separated). Failures reject with
 * {@link FileSystemError} (its `code` is the OS's, e.g. `ENOENT`, or an `EBBRT_FS_*` code).
 */
export interface FileSystem {
  /** The whole file. */
  readFile(path: string): Promise<IOBuf>;
  /** Creates or replaces the file. */
  writeFile(path: string, data: FileData): Promise<void>;
  /** Appends to the file, creating it if needed. */
  appendFile(path: string, data: FileData): Promise<void>;
  /** Follows symbolic links (inside the root). */
  stat(path: string): Promise<FileStat>;
  /** Entry names of a directory, sorted. */
  readdir(path: string): Promise<string[]>;
  /** As {@link stat}, but a symbolic link is reported as itself. */
  lstat(path: string): Promise<FileStat>;
  /** Up to `length` bytes from `offset` (fewer at the end of the file, none past it). */
  read(path: string, offset: number, length: number): Promise<IOBuf>;
  /** Writes `data` at `offset`, creating the file if needed and never truncating it. */
  write(path: string, offset: number, data: FileData): Promise<void>;
  /** Cuts (or zero-extends) the file to `length` bytes. */
  truncate(path: string, length: number): Promise<void>;
  /** Creates a directory; `recursive` creates missing parents and accepts an existing one. */
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Removes a file or a symbolic link (never what it points to). */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Renames within the root (replacing a file at `to`). */
  rename(from: string, to: string): Promise<void>;
}
