import { constants } from 'node:fs';
import type { FileStat } from '@ebbrt/interfaces';

/** `fs.Stats` from what the FileSystem Ebb reports (times other than mtime are mtime). */
export class Stats {
  readonly dev = 0;
  readonly ino = 0;
  readonly nlink = 1;
  readonly uid = 0;
  readonly gid = 0;
  readonly rdev = 0;
  readonly blksize = 4096;
  readonly size: number;
  readonly blocks: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly atimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly mtime: Date;
  readonly atime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;

  constructor(s: FileStat, DateCtor: DateConstructor) {
    this.size = s.size;
    this.blocks = Math.ceil(s.size / 512);
    this.mode = s.mode;
    this.mtimeMs = this.atimeMs = this.ctimeMs = this.birthtimeMs = s.mtimeMs;
    this.mtime = new DateCtor(s.mtimeMs);
    this.atime = new DateCtor(s.mtimeMs);
    this.ctime = new DateCtor(s.mtimeMs);
    this.birthtime = new DateCtor(s.mtimeMs);
    Object.defineProperty(this, 'kind', { value: s, enumerable: false });
  }

  private get s(): FileStat {
    return (this as unknown as { kind: FileStat }).kind;
  }
  isFile(): boolean {
    return this.s.isFile;
  }
  isDirectory(): boolean {
    return this.s.isDirectory;
  }
  isSymbolicLink(): boolean {
    return (this.mode & constants.S_IFMT) === constants.S_IFLNK;
  }
  isBlockDevice(): boolean {
    return (this.mode & constants.S_IFMT) === constants.S_IFBLK;
  }
  isCharacterDevice(): boolean {
    return (this.mode & constants.S_IFMT) === constants.S_IFCHR;
  }
  isFIFO(): boolean {
    return (this.mode & constants.S_IFMT) === constants.S_IFIFO;
  }
  isSocket(): boolean {
    return (this.mode & constants.S_IFMT) === constants.S_IFSOCK;
  }
}

/** `fs.Dirent` */
export class Dirent {
  constructor(
    readonly name: string,
    private readonly stats: Stats,
    readonly parentPath: string,
  ) {}
  get path(): string {
    return this.parentPath;
  }
  isFile(): boolean {
    return this.stats.isFile();
  }
  isDirectory(): boolean {
    return this.stats.isDirectory();
  }
  isSymbolicLink(): boolean {
    return this.stats.isSymbolicLink();
  }
  isBlockDevice(): boolean {
    return this.stats.isBlockDevice();
  }
  isCharacterDevice(): boolean {
    return this.stats.isCharacterDevice();
  }
  isFIFO(): boolean {
    return this.stats.isFIFO();
  }
  isSocket(): boolean {
    return this.stats.isSocket();
  }
}
