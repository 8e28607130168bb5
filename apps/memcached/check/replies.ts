/**
 * Splits a memcached ASCII reply stream (bytes as latin1 text, in whatever pieces TCP delivers)
 * into replies, given what each request in flight expects: one line, or VALUE blocks up to END.
 * A malformed reply is reported as a line starting `MALFORMED`, so the model flags it.
 */
import type { Reply, Value } from './model.js';

export class ReplyParser {
  private buf = '';
  private values: Value[] = [];

  /** Adds received bytes; returns the replies now complete, for requests expecting `wantsValues(i)`. */
  push(text: string, wantsValues: (index: number) => boolean): Reply[] {
    this.buf += text;
    const out: Reply[] = [];
    let at = 0;
    for (;;) {
      const eol = this.buf.indexOf('\r\n', at);
      if (eol < 0) break;
      const line = this.buf.slice(at, eol);
      if (!wantsValues(out.length)) {
        out.push({ kind: 'line', line });
        at = eol + 2;
        continue;
      }
      if (line === 'END') {
        out.push({ kind: 'values', values: this.values });
        this.values = [];
        at = eol + 2;
        continue;
      }
      const m = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/.exec(line);
      if (m === null) {
        // An error line (SERVER_ERROR ...) or garbage where values were due.
        out.push({ kind: 'line', line: this.values.length === 0 ? line : `MALFORMED after values: ${line}` });
        this.values = [];
        at = eol + 2;
        continue;
      }
      const length = Number(m[3]);
      const dataEnd = eol + 2 + length;
      if (this.buf.length < dataEnd + 2) break; // the data block is not all here yet
      if (this.buf.slice(dataEnd, dataEnd + 2) !== '\r\n') {
        out.push({ kind: 'line', line: `MALFORMED: value ${m[1]} of ${length} bytes not followed by CR LF` });
        this.values = [];
        at = dataEnd;
        continue;
      }
      this.values.push({ key: m[1]!, flags: Number(m[2]), data: this.buf.slice(eol + 2, dataEnd), cas: m[4] });
      at = dataEnd + 2;
    }
    this.buf = this.buf.slice(at);
    return out;
  }

  /** Bytes received that no complete reply has used (a clean stream ends with none). */
  get pending(): number {
    return this.buf.length;
  }
}
