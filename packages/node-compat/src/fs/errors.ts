import { FileSystemError } from '@ebbrt/interfaces';
import { ERRNO } from '../net/errors.js';

const DESCRIPTIONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'illegal operation on a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many symbolic links encountered',
  EEXIST: 'file already exists',
  ENOTEMPTY: 'directory not empty',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EFBIG: 'file too large',
  EIO: 'i/o error',
  EXDEV: 'cross-device link not permitted',
};

/** Node's error for a failed fs call: `ENOENT: no such file or directory, open 'a.txt'`, with code, errno, syscall, path. */
export function fsError(code: string, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
  const e = new Error(`${code}: ${DESCRIPTIONS[code] ?? code.toLowerCase()}, ${syscall}${where}`) as NodeJS.ErrnoException & { dest?: string };
  e.errno = ERRNO[code] ?? -1;
  e.code = code;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  if (dest !== undefined) e.dest = dest;
  return e;
}

/**
 * The FileSystem Ebb's error as Node's. The OS's codes pass through; a path the front-end refuses
 * for leaving the app's root is EACCES (permission denied: the file may exist, the app may not have
 * it); a file over the Ebb's size limit is EFBIG; a front-end that cannot be reached is EIO.
 */
export function fromFileSystem(e: unknown, syscall: string, path: string, dest?: string): Error {
  if (!(e instanceof FileSystemError)) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code in DESCRIPTIONS) return fsError(code, syscall, path, dest);
    const err = fsError('EIO', syscall, path, dest);
    err.message += ` (${e instanceof Error ? e.message : String(e)})`;
    return Object.assign(err, { cause: e });
  }
  let code = e.code;
  if (code === 'EBBRT_FS_OUTSIDE_ROOT') code = 'EACCES';
  else if (code === 'EBBRT_FS_TOO_LARGE') code = 'EFBIG';
  else if (code === 'EBBRT_FS_INVALID_PATH' || code === 'EBBRT_FS_INVALID_ARGUMENT') code = 'EINVAL';
  else if (!(code in DESCRIPTIONS)) code = 'EIO';
  const err = fsError(code, syscall, path, dest);
  if (code !== e.code) err.message += ` (${e.message})`;
  return Object.assign(err, { cause: e });
}
