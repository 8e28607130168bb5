/**
 * Differential testing against a real memcached: start Debian's `memcached` on a loopback port,
 * play the same requests at it and at our server, and normalise the replies (CAS uniques become
 * c1, c2... by first appearance; volatile stats are masked) so the two can be compared exactly.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';

/** A free loopback port (bound and released; memcached binds it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Reference {
  port: number;
  stop(): Promise<void>;
}

/**
 * A real memcached with our server's shape: one LRU (`-o no_lru_maintainer` turns the segmented LRU off: items are not split
 * into hot/warm/cold, so `stats cachedump` sees every item), 64 MiB, 1 MiB items, 2 threads.
 */
export async function startReference(): Promise<Reference> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', '2', '-m', '64', '-I', '1m', '-o', 'no_lru_maintainer,no_lru_crawler'];
    if (process.getuid?.() === 0) args.push('-u', 'root');
    const child = spawn('memcached', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // our own child; SIGTERM makes memcached wait a second
      await exited;
    };
    // Up to 5 s for it to listen (a contended machine); a port taken meanwhile means try another.
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      if (await canConnect(port)) return { port, stop };
      await new Promise((r) => setTimeout(r, 50));
    }
    await stop();
    if (!/bind|Address already in use/i.test(stderr)) throw new Error(`memcached ${args.join(' ')} did not start: ${stderr}`);
  }
  throw new Error('memcached did not find a free port in 5 attempts');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** A client connection that sends a request then reads until `complete(bytes)`, a close, or a timeout. */
export class Conn {
  private readonly socket;
  private buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | null = null;
  private constructor(port: number, ready: () => void) {
    this.socket = connect({ port, host: '127.0.0.1' }, ready);
    this.socket.on('data', (b: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, b]);
      this.wake?.();
    });
    const end = (): void => {
      this.closed = true;
      this.wake?.();
    };
    this.socket.on('close', end);
    this.socket.on('error', end);
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve) => {
      const c: Conn = new Conn(port, () => resolve(c));
    });
  }

  /** Writes `request`, then waits until `complete` holds for what arrived (or the peer closed, or 3 s). */
  async ask(request: Buffer, complete: (reply: Buffer) => boolean): Promise<{ reply: Buffer; closed: boolean }> {
    this.buffer = Buffer.alloc(0);
    if (!this.closed) this.socket.write(request);
    const deadline = Date.now() + 3000;
    while (!this.closed && !complete(this.buffer) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
      this.wake = null;
    }
    // A close right after the last reply (quit, line too long) is part of the answer.
    if (!this.closed) await new Promise((r) => setTimeout(r, 20));
    return { reply: this.buffer, closed: this.closed };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Replaces each distinct CAS unique with c1, c2... in order of first appearance (per scenario). */
export class CasNames {
  private readonly names = new Map<string, string>();
  name(cas: string): string {
    if (cas === '0') return '0';
    let n = this.names.get(cas);
    if (n === undefined) {
      n = `c${this.names.size + 1}`;
      this.names.set(cas, n);
    }
    return n;
  }
}

// ------------------------------------------------------------ binary protocol

export interface BinRequest {
  op: number;
  key?: string;
  extras?: Buffer;
  value?: Buffer | string;
  opaque?: number;
  cas?: bigint;
}

export function binRequest(r: BinRequest): Buffer {
  const key = Buffer.from(r.key ?? '', 'latin1');
  const extras = r.extras ?? Buffer.alloc(0);
  const value = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : (r.value ?? Buffer.alloc(0));
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = r.op;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + key.length + value.length, 8);
  h.writeUInt32BE(r.opaque ?? 0, 12);
  h.writeBigUInt64BE(r.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}

export interface BinResponse {
  op: number;
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: string;
  value: Buffer;
}

/** Whole response packets in `bytes`, and whether a trailing partial one is left. */
export function binResponses(bytes: Buffer): { packets: BinResponse[]; rest: number } {
  const packets: BinResponse[] = [];
  let at = 0;
  while (bytes.length - at >= 24) {
    const bodylen = bytes.readUInt32BE(at + 8);
    if (bytes.length - at < 24 + bodylen) break;
    const extlen = bytes[at + 4]!;
    const keylen = bytes.readUInt16BE(at + 2);
    const body = bytes.subarray(at + 24, at + 24 + bodylen);
    packets.push({
      op: bytes[at + 1]!,
      status: bytes.readUInt16BE(at + 6),
      opaque: bytes.readUInt32BE(at + 12),
      cas: bytes.readBigUInt64BE(at + 16),
      extras: body.subarray(0, extlen),
      key: body.subarray(extlen, extlen + keylen).toString('latin1'),
      value: body.subarray(extlen + keylen),
    });
    at += 24 + bodylen;
  }
  return { packets, rest: bytes.length - at };
}
