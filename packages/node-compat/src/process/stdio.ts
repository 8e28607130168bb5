import { Writable } from 'node:stream';

/**
 * `process.stdout`/`stderr` of a back-end node: the bytes go to the node's console (the
 * front-end prints them), one console line per line written; a partial line waits for its end
 * (or for `flush()` at exit).
 */
export class ConsoleStream extends Writable {
  private partial = '';
  readonly isTTY = false;
  readonly columns = 80;
  readonly rows = 24;

  constructor(
    private readonly line: (text: string) => void,
    readonly fd: number,
  ) {
    super({ decodeStrings: false });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.line(l);
    callback();
  }

  flush(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
  }

  hasColors(): boolean {
    return false;
  }
  getColorDepth(): number {
    return 1;
  }
  getWindowSize(): [number, number] {
    return [this.columns, this.rows];
  }
}
