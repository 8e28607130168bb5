// The Internet checksum (RFC 1071): the 16-bit one's-complement of the one's-complement sum of
// the data taken as big-endian 16-bit words, with a zero byte appended to an odd-length tail.
//
// Why split into add/fold/finish: TCP and UDP checksum a pseudo-header that is not in the
// buffer, and a segment may be scattered over several buffers. `checksumAdd` returns an
// *unfolded* running sum (a plain JS number; doubles are exact up to 2^53, so ~2^37 bytes can be
// summed before folding matters), so pieces can be summed independently and combined by
// addition (RFC 1071 section 2(B), "associative"). Fold once at the end.

/**
 * Adds bytes[offset, offset+length) to `sum` as big-endian 16-bit words. An odd final byte is
 * treated as the high byte of a word padded with zero (RFC 1071). For incremental use over
 * several ranges, every range but the last must have even length (else words would straddle
 * ranges; RFC 1071 section 2(B) byte-swap trick is not applied here).
 */
export function checksumAdd(sum: number, bytes: Uint8Array, offset: number, length: number): number {
  let i = offset;
  const end = offset + length;
  const evenEnd = end - ((end - offset) & 1);
  // Two words per iteration: roughly halves loop overhead in V8; no allocation.
  const quadEnd = evenEnd - ((evenEnd - offset) & 3);
  let acc = 0;
  for (; i < quadEnd; i += 4) {
    acc += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  for (; i < evenEnd; i += 2) acc += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) acc += bytes[i] << 8;
  return sum + acc;
}

/** True on little-endian hosts: a Uint32Array then reads each 16-bit word byte-swapped. Fixed at load. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Ranges shorter than this are summed byte-wise: a 32-bit view would not pay for itself, and
 * reading `.buffer` of a small heap array makes V8 move it off the JS heap.
 */
const WIDE_MIN_BYTES = 128;

/**
 * A one-entry cache of a 32-bit view over the buffer last summed, for `checksumAddWide`. Frames of
 * one node live in one guest-memory ArrayBuffer, so the view is made once per node, not per call.
 * Each owner (a stack, a wire view) keeps its own: no shared mutable state.
 */
export class ChecksumWords {
  private buffer: ArrayBufferLike | null = null;
  private i32: Int32Array<ArrayBufferLike> = new Int32Array(0);

  /** An Int32Array over all of `bytes.buffer` (whole words). */
  of(bytes: Uint8Array): Int32Array<ArrayBufferLike> {
    const b = bytes.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.i32 = new Int32Array(b, 0, b.byteLength >>> 2);
    }
    return this.i32;
  }
}

/** 65535 * 32769: a multiple of 65535 above 2^31, so n of them lift any sum of n int32 words above 0. */
const LIFT = 65535 * 32769;

/**
 * `checksumAdd` reading 32 bits at a time (about a third of the time per byte in V8). RFC 1071
 * 2(B): the one's-complement sum does not depend on byte order, so the words are summed in the
 * host's order and the folded sum swapped back once. Words are read signed, so every addend is a
 * small integer (an unsigned word above 2^31 would make V8 box doubles); a negative word is its
 * unsigned value minus 2^32, and 2^32 = 1 (mod 65535), so counting the negative words restores
 * the sum modulo 65535. The range must lie inside `bytes` (callers have checked it). Same result
 * as `checksumAdd` on any range, including 0 only for all-zero bytes.
 */
export function checksumAddWide(sum: number, bytes: Uint8Array, offset: number, length: number, words: ChecksumWords): number {
  let i = offset;
  const abs = bytes.byteOffset + i;
  // An odd address puts the stream's words across the view's: rare, so the byte loop takes it.
  if (length < WIDE_MIN_BYTES || (abs & 1) !== 0) return checksumAdd(sum, bytes, offset, length);
  if ((abs & 2) !== 0) {
    sum += (bytes[i]! << 8) | bytes[i + 1]!;
    i += 2;
  }
  const w32 = words.of(bytes);
  const end = offset + length;
  let w = (bytes.byteOffset + i) >>> 2;
  const n = (end - i) >>> 2;
  const wEnd = w + n;
  const w4 = w + (n & ~3);
  let acc = 0;
  let neg = 0;
  for (; w < w4; w += 4) {
    const a = w32[w]!;
    const b = w32[w + 1]!;
    const c = w32[w + 2]!;
    const d = w32[w + 3]!;
    acc += a + b + c + d;
    neg += (a >>> 31) + (b >>> 31) + (c >>> 31) + (d >>> 31);
  }
  for (; w < wEnd; w++) {
    const a = w32[w]!;
    acc += a;
    neg += a >>> 31;
  }
  if (acc !== 0 || neg !== 0) {
    let host = checksumFold(acc + neg + n * LIFT);
    if (LITTLE_ENDIAN) host = ((host & 0xff) << 8) | (host >>> 8);
    sum += host;
  }
  i += 4 * n;
  return checksumAdd(sum, bytes, i, end - i);
}

/** Adds one 16-bit word to a running sum. */
export function checksumAddWord(sum: number, word: number): number {
  return sum + (word & 0xffff);
}

/** Adds a 32-bit value (e.g. an IPv4 address) as two 16-bit words. */
export function checksumAddU32(sum: number, value: number): number {
  return sum + ((value >>> 16) & 0xffff) + (value & 0xffff);
}

/** Folds carries back in until the sum fits in 16 bits (end-around carry, RFC 1071). */
export function checksumFold(sum: number): number {
  // `sum` may exceed 2^32, so fold with division rather than 32-bit shifts at first.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The value to store in a checksum field: complement of the folded sum. */
export function checksumFinish(sum: number): number {
  return ~checksumFold(sum) & 0xffff;
}

/** Internet checksum of one range, optionally continuing from an unfolded running `initial`. */
export function internetChecksum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  return checksumFinish(checksumAdd(initial, bytes, offset, length));
}

/**
 * Unfolded sum of the IPv4 pseudo-header used by TCP (RFC 9293 3.1) and UDP (RFC 768):
 * source address, destination address, zero, protocol, and the TCP/UDP length.
 */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return checksumAddU32(checksumAddU32(0, src), dst) + (protocol & 0xff) + (length & 0xffff);
}

/**
 * True when the range, which includes its own checksum field, sums to all ones, i.e. the
 * stored checksum is correct (RFC 1071 section 1: "the result is checked ... all 1 bits").
 */
export function verifyChecksum(bytes: Uint8Array, offset: number, length: number, initial = 0): boolean {
  return checksumFold(checksumAdd(initial, bytes, offset, length)) === 0xffff;
}

/**
 * Incremental update of a stored checksum when one 16-bit word changes from `oldWord` to
 * `newWord` (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). Used e.g. for TTL decrement or NAT.
 */
export function checksumUpdate16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~checksumFold(sum) & 0xffff;
}

/** Sum of a TCP/UDP segment under its IPv4 pseudo-header (RFC 768, RFC 9293 3.1), not yet folded. */
function transportSum(src: number, dst: number, protocol: number, bytes: Uint8Array, offset: number, length: number, words?: ChecksumWords): number {
  const ph = pseudoHeaderSum(src, dst, protocol, length);
  return words === undefined ? checksumAdd(ph, bytes, offset, length) : checksumAddWide(ph, bytes, offset, length, words);
}

/** True when a TCP/UDP segment's checksum (in place) verifies under its pseudo-header. */
export function transportChecksumValid(src: number, dst: number, protocol: number, bytes: Uint8Array, offset: number, length: number, words?: ChecksumWords): boolean {
  return checksumFold(transportSum(src, dst, protocol, bytes, offset, length, words)) === 0xffff;
}

/** The checksum to store in a TCP/UDP header whose checksum field is zero. */
export function transportChecksum(src: number, dst: number, protocol: number, bytes: Uint8Array, offset: number, length: number): number {
  return checksumFinish(transportSum(src, dst, protocol, bytes, offset, length));
}

/**
 * Adds the data bytes of an IOBuf chain to a running sum. Elements may have odd lengths: a byte
 * left over from one element is the high byte of a word finished by the next one's first byte.
 * Structurally typed (bytes/offset/length/next) so the wire layer needs no IOBuf import.
 */
export function chainChecksumAdd(sum: number, chain: ChecksumChain, words?: ChecksumWords): number {
  let odd = false;
  let e: ChecksumChain = chain;
  do {
    let off = e.offset;
    let len = e.length;
    const b = e.bytes;
    if (odd && len > 0) {
      sum += b[off]!; // low byte of the word begun by the previous element
      off++;
      len--;
      odd = false;
    }
    sum = words === undefined ? checksumAdd(sum, b, off, len) : checksumAddWide(sum, b, off, len, words);
    if ((len & 1) === 1) odd = true;
    e = e.next;
  } while (e !== chain);
  return sum;
}

/** What `chainChecksumAdd` reads of a buffer chain (an IOBuf is one): a circular list of byte ranges. */
export interface ChecksumChain {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly next: ChecksumChain;
}
