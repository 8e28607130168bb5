/**
 * A machine's serial console (think COM1 with a line discipline): software writes text, complete
 * lines are kept in a bounded ring for tests and handed to listeners.
 */

/** Receives each complete line (without the newline). */
export type LineListener = (line: string) => void;

/** Default number of lines kept. */
export const SERIAL_HISTORY_LINES = 10_000;

export class SerialConsole {
  private partial = '';
  private readonly ring: string[] = [];
  private ringStart = 0;
  private readonly capacity: number;
  private readonly listeners: LineListener[] = [];

  /** @param capacity lines kept (oldest dropped first). */
  constructor(capacity = SERIAL_HISTORY_LINES) {
    this.capacity = capacity;
  }

  /** Append text; every '\n' completes a line. */
  write(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = this.partial + text.slice(start, nl);
      this.partial = '';
      this.emit(line);
      start = nl + 1;
    }
    if (start < text.length) this.partial += text.slice(start);
  }

  /** Subscribe to complete lines; returns an unsubscribe function. */
  onLine(listener: LineListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    return this.ring.slice(this.ringStart).concat(this.ring.slice(0, this.ringStart));
  }

  /** Text written since the last newline. */
  get pendingText(): string {
    return this.partial;
  }

  private emit(line: string): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(line);
    } else {
      this.ring[this.ringStart] = line;
      this.ringStart = (this.ringStart + 1) % this.capacity;
    }
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i](line);
  }
}
