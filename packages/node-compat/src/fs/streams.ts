import { Readable, Writable } from 'node:stream';
import type { NodeFiles, PathLike } from './files.js';

export interface ReadStreamOptions {
  flags?: string;
  encoding?: BufferEncoding;
  fd?: number;
  start?: number;
  end?: number;
  highWaterMark?: number;
  autoClose?: boolean;
  emitClose?: boolean;
}

/**
 * `fs.ReadStream`: opens (a request to the front-end), then reads `highWaterMark` bytes at a time
 * with positional requests, so a large file streams without being held whole on either side.
 */
export class ReadStream extends Readable {
  fd: number | null;
  bytesRead = 0;
  pending = true;
  readonly path: PathLike | undefined;
  private position: number;
  private readonly end: number;
  private readonly chunk: number;

  constructor(
    private readonly files: NodeFiles,
    path: PathLike | undefined,
    private readonly options: ReadStreamOptions = {},
  ) {
    super({ highWaterMark: options.highWaterMark ?? 64 * 1024, encoding: options.encoding, emitClose: options.emitClose ?? true, autoDestroy: options.autoClose ?? true });
    this.path = path;
    this.fd = options.fd ?? null;
    this.position = options.start ?? 0;
    this.end = options.end ?? Infinity;
    this.chunk = options.highWaterMark ?? 64 * 1024;
    if (this.end < this.position) {
      throw Object.assign(new RangeError(`The value of "start" is out of range. It must be <= "end" (here: ${this.end}). Received ${this.position}`), { code: 'ERR_OUT_OF_RANGE' });
    }
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openStream(this, this.files, this.options.flags ?? 'r', callback);
  }

  override _read(size: number): void {
    const left = this.end - this.position + 1;
    const n = Math.min(Math.max(size, this.chunk), left);
    if (n <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(n);
    this.files.read(this.fd!, buf, 0, n, this.position).then(
      (got) => {
        this.position += got;
        this.bytesRead += got;
        if (got === 0) this.push(null);
        else this.push(got === n ? buf : buf.subarray(0, got));
      },
      (e: Error) => this.destroy(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === null || this.options.autoClose === false) return callback(error);
    this.fd = null;
    this.files.close(fd).then(
      () => callback(error),
      (e: Error) => callback(error ?? e),
    );
  }

  close(callback?: (error?: Error | null) => void): void {
    if (callback !== undefined) this.once('close', () => callback(null));
    this.destroy();
  }
}

export interface WriteStreamOptions {
  flags?: string;
  encoding?: BufferEncoding;
  fd?: number;
  start?: number;
  autoClose?: boolean;
  emitClose?: boolean;
  highWaterMark?: number;
}

/** `fs.WriteStream`: opens (truncating by default), then each chunk is a positional write. */
export class WriteStream extends Writable {
  fd: number | null;
  bytesWritten = 0;
  pending = true;
  readonly path: PathLike | undefined;
  private position: number | null;

  constructor(
    private readonly files: NodeFiles,
    path: PathLike | undefined,
    private readonly options: WriteStreamOptions = {},
  ) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024, decodeStrings: true, defaultEncoding: options.encoding ?? 'utf8', emitClose: options.emitClose ?? true, autoDestroy: options.autoClose ?? true });
    this.path = path;
    this.fd = options.fd ?? null;
    this.position = options.start ?? null;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openStream(this, this.files, this.options.flags ?? 'w', callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.files.write(this.fd!, chunk, 0, chunk.length, this.position).then(
      (n) => {
        this.bytesWritten += n;
        if (this.position !== null) this.position += n;
        callback();
      },
      (e: Error) => callback(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === null || this.options.autoClose === false) return callback(error);
    this.fd = null;
    this.files.close(fd).then(
      () => callback(error),
      (e: Error) => callback(error ?? e),
    );
  }

  close(callback?: (error?: Error | null) => void): void {
    if (callback !== undefined) this.once('close', () => callback(null));
    if (!this.writableEnded) this.end();
    else this.destroy();
  }
}

/** What `_construct` of either stream needs: its fd (given, or opened here) and Node's open events. */
interface OpenableStream {
  fd: number | null;
  pending: boolean;
  readonly path: PathLike | undefined;
  emit(event: 'open' | 'ready', ...args: unknown[]): boolean;
}

/** Opens the stream's file on the front-end unless an fd was given, then emits 'open' and 'ready' as Node does. */
function openStream(stream: OpenableStream, files: NodeFiles, flags: string, callback: (error?: Error | null) => void): void {
  if (stream.fd !== null) {
    stream.pending = false;
    return callback();
  }
  files.open(stream.path!, flags).then(
    (fd) => {
      stream.fd = fd;
      stream.pending = false;
      callback();
      stream.emit('open', fd);
      stream.emit('ready');
    },
    (e: Error) => callback(e),
  );
}
