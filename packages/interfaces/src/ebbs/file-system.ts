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
}
