/**
 * memcached's ASCII protocol: an incremental parser plus executor for one
 * connection. Command lines are copied into a reusable scratch array (they are
 * short) and tokenized in place into reusable offset arrays; values are taken
 * from the input queue as views (zero copy) once all of their bytes are there.
 * Reply strings are memcached's, byte for byte.
 */
import type { IOBuf } from '@ebbrt/interfaces';
import { KEY_MAX_LENGTH, MAX_SLAB_CLASSES, parseDecimalU64, StoreMode, StoreStatus } from '../../store/index.js';
import { bytesEqual, latin1, parseCas, parseI32, parseU32 } from '../bytes.js';
import { generalStats, namedStats, type ProtocolContext } from '../context.js';
import type { InputQueue } from '../input.js';
import type { ReplyBuilder } from '../output.js';
import { Action, type Session } from '../session.js';
import { Cmd, lookupCommand, NOREPLY, ZERO } from './commands.js';

/** Longest command line (memcached's limit before "line too long"). */
export const MAX_LINE = 2048;
/** Multi-key retrieval lines may be longer (memcached keeps reading those). */
export const MAX_GET_LINE = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

const State = { Line: 0, Value: 1, Swallow: 2 } as const;
type State = (typeof State)[keyof typeof State];

const CLIENT_ERROR_FORMAT = 'CLIENT_ERROR bad command line format\r\n';

export class AsciiSession implements Session {
  private state: State = State.Line;
  /** Bytes of the input already searched for '\n' (so a long partial line is scanned once). */
  private scanned = 0;
  private line = new Uint8Array(MAX_LINE);
  private starts = new Int32Array(24);
  private ends = new Int32Array(24);
  private ntok = 0;
  // The storage command waiting for its value.
  private mode: StoreMode = StoreMode.Set;
  private key = '';
  private flags = 0;
  private exptime = 0;
  private length = 0;
  private cas = 0;
  private noreply = false;
  private swallowLeft = 0;

  constructor(private readonly ctx: ProtocolContext) {}

  process(input: InputQueue, out: ReplyBuilder): Action {
    for (;;) {
      if (this.state === State.Line) {
        if (input.length === 0) return Action.More;
        const limit = this.lineLimit(input);
        const nl = input.indexOf(LF, this.scanned, limit);
        if (nl < 0) {
          if (input.length >= limit) {
            out.text('CLIENT_ERROR line too long\r\n');
            return Action.Close;
          }
          this.scanned = input.length;
          return Action.More;
        }
        this.scanned = 0;
        if (nl > this.line.length) this.line = new Uint8Array(MAX_GET_LINE);
        input.copyOut(nl, this.line);
        input.skip(nl + 1);
        const len = nl > 0 && this.line[nl - 1] === CR ? nl - 1 : nl;
        if (this.execute(len, out) === Action.Close) return Action.Close;
      } else if (this.state === State.Value) {
        if (input.length < this.length + 2) return Action.More;
        this.completeStore(input, out);
        this.state = State.Line;
      } else {
        const n = Math.min(this.swallowLeft, input.length);
        input.skip(n);
        this.swallowLeft -= n;
        if (this.swallowLeft > 0) return Action.More;
        this.state = State.Line;
      }
    }
  }

  /** How far to look for the end of the line: retrieval commands may carry many keys. */
  private lineLimit(input: InputQueue): number {
    if (input.length >= 4 && input.byteAt(0) === 0x67 /* g */ && input.byteAt(2) === 0x74 /* t */) {
      const b1 = input.byteAt(1);
      const b3 = input.byteAt(3);
      if ((b1 === 0x65 /* e */ || b1 === 0x61) /* a */ && (b3 === SPACE || b3 === 0x73) /* s */) return MAX_GET_LINE;
    }
    return MAX_LINE;
  }

  /** Splits line[0, len) on spaces (runs of spaces separate, like memcached's tokenizer). */
  private tokenize(len: number): void {
    const line = this.line;
    let n = 0;
    let i = 0;
    while (i < len) {
      while (i < len && line[i] === SPACE) i++;
      if (i >= len) break;
      const start = i;
      while (i < len && line[i] !== SPACE) i++;
      if (n === this.starts.length) {
        const s = new Int32Array(n * 2);
        s.set(this.starts);
        this.starts = s;
        const e = new Int32Array(n * 2);
        e.set(this.ends);
        this.ends = e;
      }
      this.starts[n] = start;
      this.ends[n] = i;
      n++;
    }
    this.ntok = n;
  }

  private tokenIs(t: number, word: Uint8Array): boolean {
    return bytesEqual(this.line, this.starts[t], this.ends[t], word);
  }

  private tokenLength(t: number): number {
    return this.ends[t] - this.starts[t];
  }

  private keyOf(t: number): string {
    return latin1(this.line, this.starts[t], this.ends[t]);
  }

  private execute(len: number, out: ReplyBuilder): Action {
    this.tokenize(len);
    const ntok = this.ntok;
    if (ntok === 0) {
      out.text('ERROR\r\n');
      return Action.More;
    }
    const cmd = lookupCommand(this.line, this.starts[0], this.ends[0]);
    switch (cmd) {
      case Cmd.Get:
      case Cmd.Gets:
        if (ntok < 2) out.text('ERROR\r\n');
        else this.retrieve(out, 1, cmd === Cmd.Gets, false, 0);
        return Action.More;
      case Cmd.Gat:
      case Cmd.Gats: {
        // `gat <exptime>` with no key is an empty retrieval (END), as in memcached.
        if (ntok < 2) {
          out.text('ERROR\r\n');
          return Action.More;
        }
        const exptime = parseI32(this.line, this.starts[1], this.ends[1]);
        if (Number.isNaN(exptime)) out.text('CLIENT_ERROR invalid exptime argument\r\n');
        else this.retrieve(out, 2, cmd === Cmd.Gats, true, exptime);
        return Action.More;
      }
      case Cmd.Set:
      case Cmd.Add:
      case Cmd.Replace:
      case Cmd.Append:
      case Cmd.Prepend:
      case Cmd.Cas:
        this.beginStore(cmd, out);
        return Action.More;
      case Cmd.Delete:
        this.delete(out);
        return Action.More;
      case Cmd.Incr:
      case Cmd.Decr:
        this.arith(cmd === Cmd.Incr, out);
        return Action.More;
      case Cmd.Touch:
        this.touch(out);
        return Action.More;
      case Cmd.FlushAll:
        this.flushAll(out);
        return Action.More;
      case Cmd.Version:
        // memcached 1.6 ignores arguments to `version` (memccapable checks for this).
        out.text('VERSION ');
        out.text(this.ctx.version);
        out.text('\r\n');
        return Action.More;
      case Cmd.Verbosity:
        this.verbosity(out);
        return Action.More;
      case Cmd.Stats:
        this.stats(out);
        return Action.More;
      case Cmd.Quit:
        return Action.Close;
      default:
        out.text('ERROR\r\n');
        return Action.More;
    }
  }

  // ------------------------------------------------------------ retrieval

  private retrieve(out: ReplyBuilder, first: number, withCas: boolean, touch: boolean, exptime: number): void {
    const store = this.ctx.store;
    const line = this.line;
    for (let t = first; t < this.ntok; t++) {
      const ks = this.starts[t];
      const ke = this.ends[t];
      if (ke - ks > KEY_MAX_LENGTH) {
        out.text(CLIENT_ERROR_FORMAT);
        return;
      }
      const key = latin1(line, ks, ke);
      const item = touch ? store.touch(key, exptime) : store.get(key);
      if (item === undefined) continue;
      out.text('VALUE ');
      out.bytes(line, ks, ke);
      out.u8(SPACE);
      out.decimal(item.flags);
      out.u8(SPACE);
      out.decimal(item.length);
      if (withCas) {
        out.u8(SPACE);
        out.decimal(item.cas);
      }
      out.text('\r\n');
      if (item.value !== null) out.chain(item.value.cloneChain());
      out.text('\r\n');
    }
    out.text('END\r\n');
  }

  // ------------------------------------------------------------ storage

  private beginStore(cmd: Cmd, out: ReplyBuilder): void {
    const isCas = cmd === Cmd.Cas;
    const base = isCas ? 6 : 5;
    const ntok = this.ntok;
    if (ntok !== base && ntok !== base + 1) {
      out.text('ERROR\r\n');
      return;
    }
    const line = this.line;
    const s = this.starts;
    const e = this.ends;
    if (this.tokenLength(1) > KEY_MAX_LENGTH) {
      out.text(CLIENT_ERROR_FORMAT);
      return;
    }
    const flags = parseU32(line, s[2], e[2]);
    const exptime = parseI32(line, s[3], e[3]);
    const length = parseI32(line, s[4], e[4]);
    const cas = isCas ? parseCas(line, s[5], e[5]) : 0;
    if (flags < 0 || Number.isNaN(exptime) || Number.isNaN(length) || length < 0 || cas === -2) {
      // Like memcached: no swallow; the data line that follows is read as a command.
      out.text(CLIENT_ERROR_FORMAT);
      return;
    }
    this.noreply = ntok === base + 1 && this.tokenIs(base, NOREPLY);
    const key = this.keyOf(1);
    if (length > this.ctx.store.maxItemSize) {
      // Too large: reply now, swallow the data, and (for set) drop the stale value like memcached.
      out.text('SERVER_ERROR object too large for cache\r\n');
      if (cmd === Cmd.Set) this.ctx.store.delete(key);
      this.swallowLeft = length + 2;
      this.state = State.Swallow;
      return;
    }
    this.mode = modeOf(cmd);
    this.key = key;
    this.flags = flags;
    this.exptime = exptime;
    this.length = length;
    this.cas = cas;
    this.state = State.Value;
  }

  private completeStore(input: InputQueue, out: ReplyBuilder): void {
    const length = this.length;
    const value: IOBuf | null = input.take(length);
    const ok = input.byteAt(0) === CR && input.byteAt(1) === LF;
    input.skip(2);
    if (!ok) {
      if (value !== null) value.releaseChain();
      out.text('CLIENT_ERROR bad data chunk\r\n');
      return;
    }
    const status = this.ctx.store.store(this.mode, this.key, value, length, this.flags, this.exptime, this.cas);
    this.key = '';
    switch (status) {
      case StoreStatus.Stored:
        this.reply(out, 'STORED\r\n');
        return;
      case StoreStatus.NotStored:
        this.reply(out, 'NOT_STORED\r\n');
        return;
      case StoreStatus.Exists:
        this.reply(out, 'EXISTS\r\n');
        return;
      case StoreStatus.NotFound:
        this.reply(out, 'NOT_FOUND\r\n');
        return;
      case StoreStatus.TooLarge:
        out.text('SERVER_ERROR object too large for cache\r\n');
        return;
      default:
        out.text('SERVER_ERROR out of memory storing object\r\n');
        return;
    }
  }

  /** A success/status reply, unless the command said noreply (errors are always sent). */
  private reply(out: ReplyBuilder, text: string): void {
    if (!this.noreply) out.text(text);
  }

  // ------------------------------------------------------------ other commands

  private delete(out: ReplyBuilder): void {
    const ntok = this.ntok;
    if (ntok < 2 || ntok > 4) {
      out.text('ERROR\r\n');
      return;
    }
    // memcached accepts `delete <key> [0] [noreply]` (the 0 is a legacy hold time).
    if (ntok > 2) {
      const zero = this.tokenIs(2, ZERO);
      const nr = this.tokenIs(ntok - 1, NOREPLY);
      if (!((ntok === 3 && (zero || nr)) || (ntok === 4 && zero && nr))) {
        out.text('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n');
        return;
      }
      this.noreply = nr;
    } else this.noreply = false;
    if (this.tokenLength(1) > KEY_MAX_LENGTH) {
      out.text(CLIENT_ERROR_FORMAT);
      return;
    }
    this.reply(out, this.ctx.store.delete(this.keyOf(1)) ? 'DELETED\r\n' : 'NOT_FOUND\r\n');
  }

  /**
   * `<command> <key> <argument> [noreply]` (incr, decr, touch): checks the shape and the key,
   * sets `noreply`; false once the error reply is written.
   */
  private keyArgumentLine(out: ReplyBuilder): boolean {
    const ntok = this.ntok;
    if (ntok !== 3 && ntok !== 4) {
      out.text('ERROR\r\n');
      return false;
    }
    this.noreply = ntok === 4 && this.tokenIs(3, NOREPLY);
    if (this.tokenLength(1) > KEY_MAX_LENGTH) {
      out.text(CLIENT_ERROR_FORMAT);
      return false;
    }
    return true;
  }

  private arith(incr: boolean, out: ReplyBuilder): void {
    if (!this.keyArgumentLine(out)) return;
    const delta = parseDecimalU64(this.line, this.starts[2], this.ends[2]);
    if (delta === null) {
      out.text('CLIENT_ERROR invalid numeric delta argument\r\n');
      return;
    }
    const store = this.ctx.store;
    switch (store.arith(this.keyOf(1), incr, delta, null, 0)) {
      case StoreStatus.Stored:
        if (!this.noreply) {
          out.text(store.lastValue.toString());
          out.text('\r\n');
        }
        return;
      case StoreStatus.NotFound:
        this.reply(out, 'NOT_FOUND\r\n');
        return;
      case StoreStatus.NonNumeric:
        out.text('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
        return;
      default:
        out.text('SERVER_ERROR out of memory\r\n');
        return;
    }
  }

  private touch(out: ReplyBuilder): void {
    if (!this.keyArgumentLine(out)) return;
    const exptime = parseI32(this.line, this.starts[2], this.ends[2]);
    if (Number.isNaN(exptime)) {
      out.text('CLIENT_ERROR invalid exptime argument\r\n');
      return;
    }
    this.reply(out, this.ctx.store.touch(this.keyOf(1), exptime) !== undefined ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n');
  }

  private flushAll(out: ReplyBuilder): void {
    const ntok = this.ntok;
    if (ntok > 3) {
      out.text('ERROR\r\n');
      return;
    }
    this.noreply = ntok > 1 && this.tokenIs(ntok - 1, NOREPLY);
    let delay = 0;
    const args = ntok - 1 - (this.noreply ? 1 : 0);
    if (args === 1) {
      delay = parseI32(this.line, this.starts[1], this.ends[1]);
      if (Number.isNaN(delay)) {
        out.text('CLIENT_ERROR invalid exptime argument\r\n');
        return;
      }
    } else if (args > 1) {
      out.text('ERROR\r\n');
      return;
    }
    this.ctx.store.flushAll(delay);
    this.reply(out, 'OK\r\n');
  }

  private verbosity(out: ReplyBuilder): void {
    const ntok = this.ntok;
    if (ntok < 2 || ntok > 3) {
      out.text('ERROR\r\n');
      return;
    }
    this.noreply = this.tokenIs(ntok - 1, NOREPLY);
    const level = parseU32(this.line, this.starts[1], this.ends[1]);
    if (level >= 0) this.ctx.verbosity = level;
    this.reply(out, 'OK\r\n');
  }

  /** memcached's `process_stat`: the general list, a named group, `reset` or `cachedump`. */
  private stats(out: ReplyBuilder): void {
    let list: Array<[string, string]> | undefined;
    if (this.ntok === 1) list = generalStats(this.ctx);
    else {
      const sub = this.keyOf(1);
      if (sub === 'reset') {
        this.ctx.store.resetStats();
        out.text('RESET\r\n');
        return;
      }
      if (sub === 'cachedump') {
        this.cachedump(out);
        return;
      }
      // Unknown names (`stats noreply` too, which memccapable checks) are an ERROR, as in memcached.
      list = namedStats(this.ctx, sub);
      if (list === undefined) {
        out.text('ERROR\r\n');
        return;
      }
    }
    for (const [name, value] of list) {
      out.text('STAT ');
      out.text(name);
      out.u8(SPACE);
      out.text(value);
      out.text('\r\n');
    }
    out.text('END\r\n');
  }

  /** `stats cachedump <class> <limit>` (memcdump asks for every class with limit 0). */
  private cachedump(out: ReplyBuilder): void {
    if (this.ntok < 4) {
      out.text('CLIENT_ERROR bad command line\r\n');
      return;
    }
    const cls = parseU32(this.line, this.starts[2], this.ends[2]);
    const limit = parseU32(this.line, this.starts[3], this.ends[3]);
    if (cls < 0 || limit < 0) out.text('CLIENT_ERROR bad command line format\r\n');
    else if (cls >= MAX_SLAB_CLASSES) out.text('CLIENT_ERROR Illegal slab id\r\n');
    else out.text(this.ctx.store.cachedump(cls, limit));
  }
}

function modeOf(cmd: Cmd): StoreMode {
  switch (cmd) {
    case Cmd.Add:
      return StoreMode.Add;
    case Cmd.Replace:
      return StoreMode.Replace;
    case Cmd.Append:
      return StoreMode.Append;
    case Cmd.Prepend:
      return StoreMode.Prepend;
    case Cmd.Cas:
      return StoreMode.Cas;
    default:
      return StoreMode.Set;
  }
}

