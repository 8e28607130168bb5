// TCP options (RFC 9293 3.2 and 3.7.1 MSS; RFC 7323 window scale and timestamps; RFC 2018
// SACK-permitted and SACK blocks; EOL = 0, NOP = 1).
//
// Why a fill-in struct: every segment of a Linux peer carries timestamps, so options are parsed
// per segment; `readTcpOptions` resets and fills a caller-owned `TcpOptions` (reusing its
// `sackBlocks` array), so the receive path allocates nothing.

import { badField, checkSpace, checkUint, failure, readU16, readU32, writeU16, writeU32, type ParseFailure } from './result.js';

export const TcpOptionKind = {
  End: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamp: 8,
} as const;

/** RFC 7323 2.3: a shift above 14 is treated as 14 by the receiver (the stack clamps). */
export const TCP_MAX_WINDOW_SCALE = 14;
export const TCP_MAX_OPTIONS_LEN = 40;

export interface TcpOptions {
  /** Maximum segment size, or null when absent. */
  mss: number | null;
  /** Window shift count as received (not clamped), or null when absent. */
  windowScale: number | null;
  sackPermitted: boolean;
  hasTimestamp: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks as flat [left0, right0, left1, right1, ...] (at most 4 blocks). */
  sackBlocks: number[];
}

export function emptyTcpOptions(): TcpOptions {
  return { mss: null, windowScale: null, sackPermitted: false, hasTimestamp: false, tsVal: 0, tsEcr: 0, sackBlocks: [] };
}

export function resetTcpOptions(out: TcpOptions): void {
  out.mss = null;
  out.windowScale = null;
  out.sackPermitted = false;
  out.hasTimestamp = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.sackBlocks.length = 0;
}

export type TcpOptionsParseReason = 'bad-option-length';
const F_OPTLEN = failure('bad-option-length');

/**
 * Parses the options area bytes[offset, offset+length) into `out` (reset first). Unknown kinds
 * are skipped by their length byte (RFC 9293 3.2: "must be prepared to handle an illegal
 * option length" and ignore unknown options). A length byte that is < 2 or runs past the area,
 * or a known option with the wrong length, fails the whole options area: the segment is
 * malformed and its other options cannot be trusted. Never throws.
 */
export function readTcpOptions(
  b: Uint8Array,
  offset: number,
  length: number,
  out: TcpOptions,
): ParseFailure<TcpOptionsParseReason> | null {
  resetTcpOptions(out);
  let i = offset;
  const end = offset + length;
  while (i < end) {
    const kind = b[i];
    if (kind === TcpOptionKind.End) break;
    if (kind === TcpOptionKind.Nop) {
      i++;
      continue;
    }
    if (i + 1 >= end) return F_OPTLEN;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return F_OPTLEN;
    switch (kind) {
      case TcpOptionKind.Mss:
        if (len !== 4) return F_OPTLEN;
        out.mss = readU16(b, i + 2);
        break;
      case TcpOptionKind.WindowScale:
        if (len !== 3) return F_OPTLEN;
        out.windowScale = b[i + 2];
        break;
      case TcpOptionKind.SackPermitted:
        if (len !== 2) return F_OPTLEN;
        out.sackPermitted = true;
        break;
      case TcpOptionKind.Sack:
        if ((len - 2) % 8 !== 0 || len < 10) return F_OPTLEN;
        for (let j = i + 2; j < i + len; j += 8) out.sackBlocks.push(readU32(b, j), readU32(b, j + 4));
        break;
      case TcpOptionKind.Timestamp:
        if (len !== 10) return F_OPTLEN;
        out.hasTimestamp = true;
        out.tsVal = readU32(b, i + 2);
        out.tsEcr = readU32(b, i + 6);
        break;
      default:
        break;
    }
    i += len;
  }
  return null;
}

/**
 * Bytes `emitTcpOptions` will write: always a multiple of 4 (the data offset counts words).
 * Layout follows Linux so captures look familiar: MSS; SACK-permitted+timestamp packed in 12
 * bytes (or NOP,NOP,TS / NOP,NOP,SACK-permitted); NOP+window scale; NOP,NOP,SACK blocks.
 */
export function tcpOptionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss !== null) n += 4;
  if (o.hasTimestamp || o.sackPermitted) n += o.hasTimestamp ? 12 : 4;
  if (o.windowScale !== null) n += 4;
  if (o.sackBlocks.length > 0) n += 4 + o.sackBlocks.length * 4;
  return n;
}

/** Writes the options area; returns its length (a multiple of 4). Throws RangeError naming a bad field. */
export function emitTcpOptions(o: TcpOptions, b: Uint8Array, offset: number): number {
  if (o.mss !== null) checkUint('mss', o.mss, 16);
  if (o.windowScale !== null) {
    checkUint('windowScale', o.windowScale, 8);
    if (o.windowScale > TCP_MAX_WINDOW_SCALE) badField('windowScale', o.windowScale, 'RFC 7323 limits the shift to 14');
  }
  if (o.hasTimestamp) {
    checkUint('tsVal', o.tsVal, 32);
    checkUint('tsEcr', o.tsEcr, 32);
  }
  if (o.sackBlocks.length % 2 !== 0 || o.sackBlocks.length > 8) {
    badField('sackBlocks', o.sackBlocks.length, 'must hold 0-4 [left, right] pairs');
  }
  for (const edge of o.sackBlocks) checkUint('sackBlocks', edge, 32);
  const n = tcpOptionsLength(o);
  if (n > TCP_MAX_OPTIONS_LEN) badField('options', n, `total option length exceeds ${TCP_MAX_OPTIONS_LEN}`);
  checkSpace(b, offset, n);
  let i = offset;
  if (o.mss !== null) {
    b[i] = TcpOptionKind.Mss;
    b[i + 1] = 4;
    writeU16(b, i + 2, o.mss);
    i += 4;
  }
  if (o.hasTimestamp) {
    if (o.sackPermitted) {
      b[i] = TcpOptionKind.SackPermitted;
      b[i + 1] = 2;
    } else {
      b[i] = TcpOptionKind.Nop;
      b[i + 1] = TcpOptionKind.Nop;
    }
    b[i + 2] = TcpOptionKind.Timestamp;
    b[i + 3] = 10;
    writeU32(b, i + 4, o.tsVal);
    writeU32(b, i + 8, o.tsEcr);
    i += 12;
  } else if (o.sackPermitted) {
    b[i] = TcpOptionKind.Nop;
    b[i + 1] = TcpOptionKind.Nop;
    b[i + 2] = TcpOptionKind.SackPermitted;
    b[i + 3] = 2;
    i += 4;
  }
  if (o.windowScale !== null) {
    b[i] = TcpOptionKind.Nop;
    b[i + 1] = TcpOptionKind.WindowScale;
    b[i + 2] = 3;
    b[i + 3] = o.windowScale;
    i += 4;
  }
  if (o.sackBlocks.length > 0) {
    b[i] = TcpOptionKind.Nop;
    b[i + 1] = TcpOptionKind.Nop;
    b[i + 2] = TcpOptionKind.Sack;
    b[i + 3] = 2 + o.sackBlocks.length * 4;
    i += 4;
    for (const edge of o.sackBlocks) {
      writeU32(b, i, edge);
      i += 4;
    }
  }
  return i - offset;
}
