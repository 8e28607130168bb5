/**
 * memcached's binary protocol for one connection: 24-byte request headers,
 * extras + key copied into small scratch arrays, values taken from the input
 * queue as views (zero copy). Quiet opcodes suppress their success replies
 * (GETQ/GETKQ/GATQ also their misses); errors are always sent.
 */
import type { IOBuf } from '@ebbrt/interfaces';
import { KEY_MAX_LENGTH, StoreMode, StoreStatus, type Item } from '../../store/index.js';
import { latin1 } from '../bytes.js';
import { generalStats, namedStats, type ProtocolContext } from '../context.js';
import type { InputQueue } from '../input.js';
import type { ReplyBuilder } from '../output.js';
import { Action, type Session } from '../session.js';
import { HEADER_LENGTH, Op, REQUEST_MAGIC, RESPONSE_MAGIC, Status, statusText } from './opcodes.js';

const State = { Header: 0, Body: 1, Swallow: 2 } as const;
type State = (typeof State)[keyof typeof State];

/** Largest extras a request may carry (INCR/DECR's 20). */
const MAX_EXTRAS = 32;
/**
 * Requests without a value have at most extras + a key; anything claiming a
 * longer body than a maximal value plus this is not framing we can trust.
 */
const BODY_SLACK = MAX_EXTRAS + KEY_MAX_LENGTH;

export class BinarySession implements Session {
  private state: State = State.Header;
  private readonly header = new Uint8Array(HEADER_LENGTH);
  private readonly head = new Uint8Array(MAX_EXTRAS + KEY_MAX_LENGTH);
  private readonly view = new DataView(this.head.buffer);
  private opcode = 0;
  private keylen = 0;
  private extlen = 0;
  private bodylen = 0;
  private opaque = 0;
  /** Request CAS (exact below 2^53; larger values can match nothing, -1). */
  private cas = 0;
  private swallowLeft = 0;

  constructor(private readonly ctx: ProtocolContext) {}

  process(input: InputQueue, out: ReplyBuilder): Action {
    for (;;) {
      if (this.state === State.Header) {
        if (input.length < HEADER_LENGTH) return Action.More;
        const h = this.header;
        input.copyOut(HEADER_LENGTH, h);
        if (h[0] !== REQUEST_MAGIC) {
          // Not a request: the stream cannot be resynchronized (memcached closes too).
          this.ctx.connections.protocol_errors++;
          return Action.Close;
        }
        input.skip(HEADER_LENGTH);
        this.opcode = h[1];
        this.keylen = (h[2] << 8) | h[3];
        this.extlen = h[4];
        this.bodylen = ((h[8] << 24) | (h[9] << 16) | (h[10] << 8) | h[11]) >>> 0;
        this.opaque = ((h[12] << 24) | (h[13] << 16) | (h[14] << 8) | h[15]) >>> 0;
        const casHi = ((h[16] << 24) | (h[17] << 16) | (h[18] << 8) | h[19]) >>> 0;
        const casLo = ((h[20] << 24) | (h[21] << 16) | (h[22] << 8) | h[23]) >>> 0;
        this.cas = casHi < 0x200000 ? casHi * 0x1_0000_0000 + casLo : -1;
        if (this.keylen + this.extlen > this.bodylen) {
          this.error(out, Status.InvalidArguments);
          this.ctx.connections.protocol_errors++;
          return Action.Close;
        }
        if (this.bodylen > this.ctx.store.maxItemSize + BODY_SLACK) {
          // Bigger than any acceptable request: answer and drop the connection rather
          // than read (and buffer) an arbitrarily long body.
          this.error(out, isStorage(this.opcode) ? Status.TooLarge : Status.InvalidArguments);
          this.ctx.connections.protocol_errors++;
          return Action.Close;
        }
        if (this.keylen > KEY_MAX_LENGTH || this.extlen > MAX_EXTRAS) {
          this.error(out, Status.InvalidArguments);
          this.swallow(this.bodylen);
          continue;
        }
        this.state = State.Body;
      } else if (this.state === State.Body) {
        if (input.length < this.bodylen) return Action.More;
        const headLen = this.extlen + this.keylen;
        input.copyOut(headLen, this.head);
        input.skip(headLen);
        this.state = State.Header;
        if (this.execute(input, this.bodylen - headLen, out) === Action.Close) return Action.Close;
      } else {
        const n = Math.min(this.swallowLeft, input.length);
        input.skip(n);
        this.swallowLeft -= n;
        if (this.swallowLeft > 0) return Action.More;
        this.state = State.Header;
      }
    }
  }

  private swallow(n: number): void {
    this.swallowLeft = n;
    this.state = n > 0 ? State.Swallow : State.Header;
  }

  private key(): string {
    return latin1(this.head, this.extlen, this.extlen + this.keylen);
  }

  /** Validates the shape memcached requires for the opcode (extras, key, value). */
  private shapeOk(valueLen: number): boolean {
    const { extlen, keylen } = this;
    switch (this.opcode) {
      case Op.Get:
      case Op.GetQ:
      case Op.GetK:
      case Op.GetKQ:
      case Op.Delete:
      case Op.DeleteQ:
        return extlen === 0 && keylen > 0 && valueLen === 0;
      case Op.Set:
      case Op.SetQ:
      case Op.Add:
      case Op.AddQ:
      case Op.Replace:
      case Op.ReplaceQ:
        return extlen === 8 && keylen > 0;
      case Op.Append:
      case Op.AppendQ:
      case Op.Prepend:
      case Op.PrependQ:
        return extlen === 0 && keylen > 0;
      case Op.Increment:
      case Op.IncrementQ:
      case Op.Decrement:
      case Op.DecrementQ:
        return extlen === 20 && keylen > 0 && valueLen === 0;
      case Op.Quit:
      case Op.QuitQ:
      case Op.Noop:
      case Op.Version:
        return extlen === 0 && keylen === 0 && valueLen === 0;
      case Op.Flush:
      case Op.FlushQ:
        return (extlen === 0 || extlen === 4) && keylen === 0 && valueLen === 0;
      case Op.Stat:
        return extlen === 0 && valueLen === 0;
      case Op.Verbosity:
        return extlen === 4 && keylen === 0 && valueLen === 0;
      case Op.Touch:
      case Op.Gat:
      case Op.GatQ:
      case Op.GatK:
      case Op.GatKQ:
        return extlen === 4 && keylen > 0 && valueLen === 0;
      default:
        return true;
    }
  }

  private execute(input: InputQueue, valueLen: number, out: ReplyBuilder): Action {
    const op = this.opcode;
    if (!this.shapeOk(valueLen)) {
      // memcached treats a request whose extras/key/value do not fit its opcode as a protocol
      // error: EINVAL, then the connection is closed (the reference test checks this).
      input.skip(valueLen);
      this.error(out, Status.InvalidArguments);
      this.ctx.connections.protocol_errors++;
      return Action.Close;
    }
    const v = this.view;
    switch (op) {
      case Op.Get:
      case Op.GetQ:
      case Op.GetK:
      case Op.GetKQ:
        this.retrieve(out, this.ctx.store.get(this.key()), op === Op.GetK || op === Op.GetKQ, op === Op.GetQ || op === Op.GetKQ, false);
        return Action.More;
      case Op.Touch:
      case Op.Gat:
      case Op.GatQ:
      case Op.GatK:
      case Op.GatKQ: {
        const item = this.ctx.store.touch(this.key(), v.getUint32(0, false));
        const quiet = op === Op.GatQ || op === Op.GatKQ;
        this.retrieve(out, item, op === Op.GatK || op === Op.GatKQ, quiet, op === Op.Touch);
        return Action.More;
      }
      case Op.Set:
      case Op.SetQ:
      case Op.Add:
      case Op.AddQ:
      case Op.Replace:
      case Op.ReplaceQ:
      case Op.Append:
      case Op.AppendQ:
      case Op.Prepend:
      case Op.PrependQ:
        this.storeValue(input, valueLen, out);
        return Action.More;
      case Op.Delete:
      case Op.DeleteQ:
      {
        // A CAS in the header makes it a conditional delete, as in memcached.
        const status = this.ctx.store.deleteCas(this.key(), this.cas);
        if (status === StoreStatus.Stored) {
          if (op === Op.Delete) this.respond(out, Status.Success, 0, 0, 0, 0);
        } else this.error(out, status === StoreStatus.Exists ? Status.KeyExists : Status.KeyNotFound);
        return Action.More;
      }
      case Op.Increment:
      case Op.IncrementQ:
      case Op.Decrement:
      case Op.DecrementQ:
        this.arith(out);
        return Action.More;
      case Op.Quit:
        this.respond(out, Status.Success, 0, 0, 0, 0);
        return Action.Close;
      case Op.QuitQ:
        return Action.Close;
      case Op.Flush:
      case Op.FlushQ:
        this.ctx.store.flushAll(this.extlen === 4 ? v.getUint32(0, false) : 0);
        if (op === Op.Flush) this.respond(out, Status.Success, 0, 0, 0, 0);
        return Action.More;
      case Op.Noop:
        this.respond(out, Status.Success, 0, 0, 0, 0);
        return Action.More;
      case Op.Version: {
        const version = this.ctx.version;
        this.respond(out, Status.Success, 0, 0, version.length, 0);
        out.text(version);
        return Action.More;
      }
      case Op.Verbosity:
        this.ctx.verbosity = v.getUint32(0, false);
        this.respond(out, Status.Success, 0, 0, 0, 0);
        return Action.More;
      case Op.Stat:
        this.stats(out);
        return Action.More;
      default:
        input.skip(valueLen);
        this.error(out, Status.UnknownCommand);
        return Action.More;
    }
  }

  /** GET-family / GAT-family / TOUCH reply for `item` (undefined = miss). */
  private retrieve(out: ReplyBuilder, item: Item | undefined, withKey: boolean, quiet: boolean, noValue: boolean): void {
    const keylen = withKey ? this.keylen : 0;
    if (item === undefined) {
      if (quiet) return;
      if (withKey) {
        // memcached answers a GETK miss with the key (and no message).
        this.respond(out, Status.KeyNotFound, keylen, 0, keylen, 0);
        out.bytes(this.head, this.extlen, this.extlen + keylen);
      } else this.error(out, Status.KeyNotFound);
      return;
    }
    const valueLen = noValue ? 0 : item.length;
    this.respond(out, Status.Success, keylen, 4, 4 + keylen + valueLen, item.cas);
    out.u32(item.flags);
    if (keylen > 0) out.bytes(this.head, this.extlen, this.extlen + keylen);
    if (!noValue && item.value !== null) out.chain(item.value.cloneChain());
  }

  private storeValue(input: InputQueue, valueLen: number, out: ReplyBuilder): void {
    const op = this.opcode;
    const store = this.ctx.store;
    if (valueLen > store.maxItemSize) {
      input.skip(valueLen);
      if (op === Op.Set || op === Op.SetQ) store.delete(this.key()); // no stale value, like memcached
      this.error(out, Status.TooLarge);
      return;
    }
    let mode: StoreMode;
    let flags = 0;
    let exptime = 0;
    switch (op) {
      case Op.Add:
      case Op.AddQ:
        mode = StoreMode.Add;
        break;
      case Op.Replace:
      case Op.ReplaceQ:
        mode = StoreMode.Replace;
        break;
      case Op.Append:
      case Op.AppendQ:
        mode = StoreMode.Append;
        break;
      case Op.Prepend:
      case Op.PrependQ:
        mode = StoreMode.Prepend;
        break;
      default:
        mode = StoreMode.Set;
    }
    if (this.extlen === 8) {
      flags = this.view.getUint32(0, false);
      exptime = this.view.getUint32(4, false);
    }
    const value: IOBuf | null = input.take(valueLen);
    const status = store.store(mode, this.key(), value, valueLen, flags, exptime, this.cas);
    if (status === StoreStatus.Stored) {
      if (!isQuiet(op)) this.respond(out, Status.Success, 0, 0, 0, store.lastCas);
      return;
    }
    // add/replace that did not apply answer as memcached does: the key exists / is missing.
    if (status === StoreStatus.NotStored && mode === StoreMode.Add) this.error(out, Status.KeyExists);
    else if (status === StoreStatus.NotStored && mode === StoreMode.Replace) this.error(out, Status.KeyNotFound);
    else this.error(out, errorStatus(status));
  }

  private arith(out: ReplyBuilder): void {
    const op = this.opcode;
    const v = this.view;
    const incr = op === Op.Increment || op === Op.IncrementQ;
    const delta = v.getBigUint64(0, false);
    const exptime = v.getUint32(16, false);
    const initial = exptime === 0xffffffff ? null : v.getBigUint64(8, false);
    const store = this.ctx.store;
    const status = store.arith(this.key(), incr, delta, initial, exptime);
    if (status !== StoreStatus.Stored) this.error(out, errorStatus(status));
    else if (op === Op.Increment || op === Op.Decrement) {
      this.respond(out, Status.Success, 0, 0, 8, store.lastCas);
      out.u64big(store.lastValue);
    }
  }

  private stats(out: ReplyBuilder): void {
    let list: Array<[string, string]> | undefined;
    if (this.keylen === 0) list = generalStats(this.ctx);
    else if (this.key() === 'reset') {
      this.ctx.store.resetStats();
      list = [];
    } else list = namedStats(this.ctx, this.key());
    if (list === undefined) {
      this.error(out, Status.KeyNotFound);
      return;
    }
    for (const [name, value] of list) {
      this.respond(out, Status.Success, name.length, 0, name.length + value.length, 0);
      out.text(name);
      out.text(value);
    }
    this.respond(out, Status.Success, 0, 0, 0, 0);
  }

  /** An error response: status, memcached's message as the body, CAS 0. */
  private error(out: ReplyBuilder, status: number): void {
    const text = statusText(status);
    this.respond(out, status, 0, 0, text.length, 0);
    out.text(text);
  }

  /** Writes a response header echoing the request's opcode and opaque. */
  private respond(out: ReplyBuilder, status: number, keylen: number, extlen: number, bodylen: number, cas: number): void {
    out.u8(RESPONSE_MAGIC);
    out.u8(this.opcode);
    out.u16(keylen);
    out.u8(extlen);
    out.u8(0);
    out.u16(status);
    out.u32(bodylen);
    out.u32(this.opaque);
    out.u64(cas);
  }
}

function isStorage(op: number): boolean {
  return (op >= Op.Set && op <= Op.Replace) || op === Op.Append || op === Op.Prepend || (op >= Op.SetQ && op <= Op.ReplaceQ) || op === Op.AppendQ || op === Op.PrependQ;
}

function isQuiet(op: number): boolean {
  return op === Op.SetQ || op === Op.AddQ || op === Op.ReplaceQ || op === Op.AppendQ || op === Op.PrependQ;
}

/** The binary status for a store outcome other than Stored. */
function errorStatus(status: StoreStatus): number {
  switch (status) {
    case StoreStatus.NotStored:
      return Status.NotStored;
    case StoreStatus.Exists:
      return Status.KeyExists;
    case StoreStatus.NotFound:
      return Status.KeyNotFound;
    case StoreStatus.TooLarge:
      return Status.TooLarge;
    case StoreStatus.NonNumeric:
      return Status.NonNumeric;
    default:
      return Status.OutOfMemory;
  }
}
