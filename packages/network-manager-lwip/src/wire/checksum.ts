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
function transportSum(src: number, dst: number, protocol: number, bytes: Uint8Array, offset: number, length: number): number {
  return checksumAdd(pseudoHeaderSum(src, dst, protocol, length), bytes, offset, length);
}

/** True when a TCP/UDP segment's checksum (in place) verifies under its pseudo-header. */
export function transportChecksumValid(src: number, dst: number, protocol: number, bytes: Uint8Array, offset: number, length: number): boolean {
  return checksumFold(transportSum(src, dst, protocol, bytes, offset, length)) === 0xffff;
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
export function chainChecksumAdd(sum: number, chain: ChecksumChain): number {
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
    sum = checksumAdd(sum, b, off, len);
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
