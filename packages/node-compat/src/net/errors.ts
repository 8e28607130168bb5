/** A Node-style system error: `code`, `errno`, `syscall`, and the address when there is one. */
export function systemError(code: string, syscall: string, detail: string, extra: Record<string, unknown> = {}): NodeJS.ErrnoException {
  const e = new Error(`${syscall} ${code}${detail === '' ? '' : ' ' + detail}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = ERRNO[code] ?? -1;
  e.syscall = syscall;
  return Object.assign(e, extra);
}

/** Linux's errno values, negated as libuv reports them. */
export const ERRNO: Record<string, number> = {
  EPERM: -1,
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EAGAIN: -11,
  EACCES: -13,
  EEXIST: -17,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EMFILE: -24,
  ENOSPC: -28,
  EROFS: -30,
  EPIPE: -32,
  ENAMETOOLONG: -36,
  ENOTEMPTY: -39,
  ELOOP: -40,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  ENETUNREACH: -101,
  ECONNABORTED: -103,
  ECONNRESET: -104,
  ENOTCONN: -107,
  ETIMEDOUT: -110,
  ECONNREFUSED: -111,
  EHOSTUNREACH: -113,
  ENOTFOUND: -3008,
};

/** The code a stack's abort reason stands for (its own `code` when it has one of Node's). */
export function abortCode(reason: Error, connecting: boolean): string {
  const code = (reason as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code in ERRNO) return code;
  const m = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EADDRINUSE|EPIPE)\b/.exec(reason.message);
  if (m !== null) return m[1]!;
  if (/refused/i.test(reason.message)) return 'ECONNREFUSED';
  if (/timed? ?out/i.test(reason.message)) return 'ETIMEDOUT';
  return connecting ? 'ECONNREFUSED' : 'ECONNRESET';
}
